# The PyTorch equivalent of src/forecast.ts: the same model, data and recipe.
import csv
import sys
import torch
from pathlib import Path
from torch import nn

SHARED = Path(__file__).parent / '../../../shared/data'


def main(data=SHARED / 'daily-min-temperatures.csv', column='Temp', steps=1500, window=30, batch=64):
    series = torch.tensor([float(row[column]) for row in csv.DictReader(open(data))])
    split = int(len(series) * 0.9)
    mean, std = series[:split].mean(), series[:split].std(unbiased=False)
    z = (series - mean) / std

    def windows(ends):  # x time-major [W, B, 1], y [B, 1]
        return torch.stack([z[e - window:e] for e in ends], dim=1).unsqueeze(2), z[ends].unsqueeze(1)

    lstm, head = nn.LSTM(1, 32), nn.Linear(32, 1)
    model = lambda x: head(lstm(x)[1][0][-1])
    optimizer = torch.optim.Adam([*lstm.parameters(), *head.parameters()], lr=3e-3)
    for step in range(1, steps + 1):
        x, y = windows(window + torch.randint(split - window, (batch,)))
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step % 250 == 0:
            print(f'step {step}  mse {loss.item():.4f}')
    ends = torch.arange(split, len(series))
    with torch.no_grad():
        predicted = model(windows(ends)[0]).reshape(-1) * std + mean
    rmse = lambda f: ((f - series[ends]) ** 2).mean().sqrt().item()
    result = {'rmse': rmse(predicted), 'naive': rmse(series[ends - 1])}
    print(f"held-out RMSE {result['rmse']:.3f} (naive: yesterday's value, {result['naive']:.3f})")
    return result


if __name__ == '__main__':
    main(*sys.argv[1:2])
