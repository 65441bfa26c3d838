"""Iris species by a small PyTorch network, trained here and deployed from the module."""

import torch
from sklearn.datasets import load_iris

import feather as ftr

iris = load_iris()
x, y = torch.tensor(iris.data, dtype=torch.float32), torch.tensor(iris.target)
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
for _ in range(200):
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(net(x), y).backward()
    optimizer.step()
print(ftr.deploy(net, name="iris-torch", sample=x[:5], labels=list(iris.target_names))["engine"])
