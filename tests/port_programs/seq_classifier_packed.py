"""A variable-length sequence classifier as NLP tutorials write it: a Dataset of token lists, a
collate_fn that pads with pad_sequence, an Embedding with padding_idx, a bidirectional GRU fed a
PackedSequence (pack_padded_sequence with enforce_sorted=False), the two final states concatenated,
Adam with CosineAnnealingWarmRestarts stepped per batch, gradient clipping, and evaluation under
torch.inference_mode(). Task: does the sequence contain more 1s than 2s?"""
import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence
from torch.utils.data import DataLoader, Dataset

# port-test: rtol=1e-3
PAD = 0


class CountingDataset(Dataset):
    def __init__(self, n, seed):
        rng = np.random.RandomState(seed)
        self.samples = []
        for _ in range(n):
            length = rng.randint(2, 12)
            tokens = rng.randint(1, 6, size=length)
            label = int((tokens == 1).sum() > (tokens == 2).sum())
            self.samples.append((torch.tensor(tokens, dtype=torch.long), label))

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, idx):
        return self.samples[idx]


def collate_batch(batch):
    sequences, labels = zip(*batch)
    lengths = torch.tensor([len(s) for s in sequences])
    padded = pad_sequence(sequences, batch_first=True, padding_value=PAD)
    return padded, lengths, torch.tensor(labels)


class GRUClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden_dim, num_classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.rnn = nn.GRU(embed_dim, hidden_dim, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden_dim, num_classes)

    def forward(self, text, lengths):
        embedded = self.embedding(text)
        packed = pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
        _, hidden = self.rnn(packed)
        hidden = torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1)
        return self.fc(hidden)


torch.manual_seed(3)
train_loader = DataLoader(CountingDataset(192, seed=0), batch_size=32, shuffle=True, collate_fn=collate_batch)
test_loader = DataLoader(CountingDataset(64, seed=1), batch_size=64, collate_fn=collate_batch)
model = GRUClassifier(vocab_size=6, embed_dim=8, hidden_dim=12, num_classes=2)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=6, T_mult=2)

for epoch in range(3):
    model.train()
    for i, (text, lengths, labels) in enumerate(train_loader):
        optimizer.zero_grad()
        loss = criterion(model(text, lengths), labels)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        scheduler.step(epoch + i / len(train_loader))
    model.eval()
    correct = 0
    with torch.inference_mode():
        for text, lengths, labels in test_loader:
            correct += (model(text, lengths).argmax(1) == labels).sum().item()
    print(f"epoch {epoch}: loss {loss:.4f}, test accuracy {correct / len(test_loader.dataset):.3f}, "
          f"lr {scheduler.get_last_lr()[0]:.5f}")
