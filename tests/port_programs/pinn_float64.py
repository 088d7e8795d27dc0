"""A physics-informed network in float64, as scientific scripts write them: the default dtype set to
double, inputs that require grad, derivatives of the network by torch.autograd.grad with
create_graph=True inside the loss, Adam with ReduceLROnPlateau, and a weight clamp through `.data`.
Solves u'' = -pi^2 sin(pi x) on [0, 1] with u(0) = u(1) = 0 (exact: sin(pi x))."""
import math

import torch
import torch.nn as nn

# port-test: rtol=1e-6
torch.set_default_dtype(torch.float64)
torch.manual_seed(2024)


class Net(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                    nn.Linear(hidden, 1))

    def forward(self, x):
        return self.layers(x)


def pde_residual(model, x):
    x = x.clone().requires_grad_(True)
    u = model(x)
    du = torch.autograd.grad(u, x, grad_outputs=torch.ones_like(u), create_graph=True)[0]
    d2u = torch.autograd.grad(du, x, grad_outputs=torch.ones_like(du), create_graph=True)[0]
    return d2u + math.pi ** 2 * torch.sin(math.pi * x)


model = Net()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=5)
x_inner = torch.linspace(0, 1, 33)[1:-1].unsqueeze(1)
x_bound = torch.tensor([[0.0], [1.0]])
for step in range(60):
    optimizer.zero_grad()
    loss_pde = pde_residual(model, x_inner).pow(2).mean()
    loss_bc = model(x_bound).pow(2).mean()
    loss = loss_pde + 10.0 * loss_bc
    loss.backward()
    optimizer.step()
    scheduler.step(loss.item())
    with torch.no_grad():
        for p in model.parameters():
            p.data.clamp_(-5.0, 5.0)
    if step % 20 == 0:
        print(f"step {step:3d} loss {loss.item():.6e} lr {optimizer.param_groups[0]['lr']:.2e}")

x_test = torch.linspace(0, 1, 11).unsqueeze(1)
with torch.no_grad():
    err = (model(x_test) - torch.sin(math.pi * x_test)).abs().max()
print(f"max error {err:.4f}")
torch.set_default_dtype(torch.float32)
