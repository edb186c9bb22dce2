# The PyTorch equivalent of src/classify.ts: the same model, data and recipe.
import csv
import sys
import torch
from pathlib import Path
from torch import nn

SHARED = Path(__file__).parent / '../../../shared/data'


def main(data=SHARED / 'indoor-movement', epochs=30, hidden=32, batch=16):
    read = lambda file: [[float(v) for v in row] for row in csv.reader(open(f'{data}/{file}')) if not row[0].startswith('#')]
    labels = {int(i): int(label > 0) for i, label in read('dataset/MovementAAL_target.csv')}
    groups = {int(i): int(group) for i, group in read('groups/MovementAAL_DatasetGroup.csv')}
    sequences = [(i, torch.tensor(read(f'dataset/MovementAAL_RSS_{i}.csv')), labels[i]) for i in labels]

    def padded(items):  # x time-major [T, B, 4], packed with each sequence's length
        x = nn.utils.rnn.pad_sequence([s[1] for s in items])
        lengths = torch.tensor([len(s[1]) for s in items])
        return nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False), torch.tensor([s[2] for s in items])

    gru, head = nn.GRU(4, hidden, bidirectional=True), nn.Linear(2 * hidden, 2)
    model = lambda x: head(torch.cat(list(gru(x)[1][-2:]), dim=1))
    optimizer = torch.optim.Adam([*gru.parameters(), *head.parameters()], lr=5e-3)
    train = [s for s in sequences if groups[s[0]] != 3]
    test_x, test_y = padded([s for s in sequences if groups[s[0]] == 3])
    for epoch in range(epochs):
        order = [train[i] for i in torch.randperm(len(train))]
        for i in range(0, len(order), batch):
            x, y = padded(order[i:i + batch])
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    with torch.no_grad():
        accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
    print(f'accuracy on environment 3 (held out): {100 * accuracy:.1f}%')
    return {'accuracy': accuracy}


if __name__ == '__main__':
    main(*sys.argv[1:2])
