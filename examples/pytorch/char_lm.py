# The PyTorch equivalent of src/char-lm.ts: the same model, data and recipe.
import sys
import torch
from pathlib import Path
from torch import nn

SHARED = Path(__file__).parent / '../../../shared/data'


def main(data=SHARED / 'tinyshakespeare.txt', steps=1000, hidden=256, batch=32, seq_len=64):
    text = open(data).read()
    vocab = sorted(set(text))
    ids = torch.tensor([vocab.index(c) for c in text])
    embedding, lstm = nn.Embedding(len(vocab), 64), nn.LSTM(64, hidden, num_layers=2)
    head = nn.Linear(hidden, len(vocab))
    model = nn.ModuleList([embedding, lstm, head])
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    for step in range(1, steps + 1):
        starts = torch.randint(len(ids) - seq_len - 1, (batch,))
        x = torch.stack([ids[s:s + seq_len] for s in starts], dim=1)
        y = torch.stack([ids[s + 1:s + seq_len + 1] for s in starts], dim=1)
        output, _ = lstm(embedding(x))
        loss = nn.functional.cross_entropy(head(output).reshape(-1, len(vocab)), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        if step % 100 == 0:
            print(f'step {step}  loss {losses[-1]:.3f}')
    # Sample 200 characters, carrying the LSTM's state from one to the next.
    state, sample = None, text[0]
    with torch.no_grad():
        for _ in range(200):
            output, state = lstm(embedding(torch.tensor([[vocab.index(sample[-1])]])), state)
            weights = torch.softmax(head(output).reshape(-1) / 0.8, dim=0)
            sample += vocab[torch.multinomial(weights, 1).item()]
    print(sample)
    return losses, sample


if __name__ == '__main__':
    main(*sys.argv[1:2])
