"""A siamese network with a contrastive loss on pairs of digits (same / different class), written
like the common PyTorch siamese-network tutorials: a custom Dataset of pairs, F.pairwise_distance,
a loss Module, Adam, and a checkpoint dict with the optimizer state."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, Dataset

# port-test: rtol=1e-3


class PairDataset(Dataset):
    def __init__(self, images, labels, n_pairs, seed=0):
        rng = np.random.RandomState(seed)
        self.images = images
        first = rng.randint(0, len(images), n_pairs)
        second = rng.randint(0, len(images), n_pairs)
        same = rng.rand(n_pairs) < 0.5
        for k in np.flatnonzero(same):  # make half the pairs share a class
            candidates = np.flatnonzero(labels == labels[first[k]])
            second[k] = candidates[rng.randint(len(candidates))]
        self.pairs = list(zip(first, second))
        self.targets = (labels[first] != labels[second]).astype(np.float32)  # 1: dissimilar

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, idx):
        i, j = self.pairs[idx]
        img0 = torch.from_numpy(self.images[i]).unsqueeze(0)
        img1 = torch.from_numpy(self.images[j]).unsqueeze(0)
        return img0, img1, torch.tensor([self.targets[idx]], dtype=torch.float32)


class SiameseNetwork(nn.Module):
    def __init__(self):
        super(SiameseNetwork, self).__init__()
        self.cnn1 = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.BatchNorm2d(8),
            nn.MaxPool2d(2, stride=2),
            nn.Conv2d(8, 16, kernel_size=3),
            nn.ReLU(inplace=True),
            nn.BatchNorm2d(16),
        )
        self.fc1 = nn.Sequential(
            nn.Linear(16 * 2 * 2, 32),
            nn.ReLU(inplace=True),
            nn.Linear(32, 8))

    def forward_once(self, x):
        output = self.cnn1(x)
        output = output.view(output.size()[0], -1)
        output = self.fc1(output)
        return output

    def forward(self, input1, input2):
        output1 = self.forward_once(input1)
        output2 = self.forward_once(input2)
        return output1, output2


class ContrastiveLoss(torch.nn.Module):
    """Contrastive loss function.
    Based on: http://yann.lecun.com/exdb/publis/pdf/hadsell-chopra-lecun-06.pdf
    """

    def __init__(self, margin=2.0):
        super(ContrastiveLoss, self).__init__()
        self.margin = margin

    def forward(self, output1, output2, label):
        euclidean_distance = F.pairwise_distance(output1, output2, keepdim=True)
        loss_contrastive = torch.mean((1 - label) * torch.pow(euclidean_distance, 2) +
                                      (label) * torch.pow(torch.clamp(self.margin - euclidean_distance,
                                                                      min=0.0), 2))
        return loss_contrastive


torch.manual_seed(0)
digits = load_digits()
images = (digits.images / 16.0).astype(np.float32)
train_dataloader = DataLoader(PairDataset(images[:600], digits.target[:600], 256), shuffle=True,
                              batch_size=32)
net = SiameseNetwork()
criterion = ContrastiveLoss()
optimizer = torch.optim.Adam(net.parameters(), lr=0.0005)

counter = []
loss_history = []
iteration_number = 0
for epoch in range(2):
    for i, (img0, img1, label) in enumerate(train_dataloader, 0):
        optimizer.zero_grad()
        output1, output2 = net(img0, img1)
        loss_contrastive = criterion(output1, output2, label)
        loss_contrastive.backward()
        optimizer.step()
        if i % 4 == 0:
            print(f"Epoch number {epoch}\n Current loss {loss_contrastive.item():.4f}\n")
            iteration_number += 4
            counter.append(iteration_number)
            loss_history.append(loss_contrastive.item())

torch.save({'epoch': epoch, 'model_state_dict': net.state_dict(),
            'optimizer_state_dict': optimizer.state_dict(), 'loss': loss_contrastive}, "checkpoint.pt")
checkpoint = torch.load("checkpoint.pt")
net.load_state_dict(checkpoint['model_state_dict'])
optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
print(f"resumed at epoch {checkpoint['epoch']}, loss {checkpoint['loss']:.4f}")
net.eval()
with torch.no_grad():
    a, b = net(torch.from_numpy(images[600:610]).unsqueeze(1), torch.from_numpy(images[610:620]).unsqueeze(1))
    print("distances", F.pairwise_distance(a, b).numpy().round(3))
