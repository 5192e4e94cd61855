"""The PyTorch side of `npm run bench`: trains the bench's MLP or CNN with
Adam (Keras's defaults) and categorical cross-entropy, batch by batch over
a reshuffled epoch, on the float32 data the bench wrote, and prints the
samples/s of the timed epochs (after one warm-up epoch) and the process's
CPU milliseconds per step over them (time.process_time) as JSON. Needs
Debian's python3-torch with libopenblas0-pthread (see
bench/fit-throughput.ts); the bench runs it with OPENBLAS_NUM_THREADS=1 and
passes the thread count for torch.set_num_threads."""
import json
import sys
import time

import numpy as np
import torch
from torch import nn


def model_for(name):
    if name == 'mlp':
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))


def load_case(name, x_path, y_path):
    """The data the bench wrote: inputs (NCHW for the CNN) and class indices."""
    shape = (-1, 784) if name == 'mlp' else (-1, 28, 28, 1)
    x = torch.from_numpy(np.fromfile(x_path, dtype=np.float32).reshape(shape))
    y = torch.from_numpy(np.fromfile(y_path, dtype=np.float32).reshape(-1, 10)).argmax(1)
    if name == 'cnn':
        x = x.permute(0, 3, 1, 2).contiguous()  # NHWC as rxkeras keeps it -> NCHW as PyTorch wants it
    return x, y


def main():
    name, x_path, y_path, batch, epochs, threads = sys.argv[1:7]
    batch, epochs, threads = int(batch), int(epochs), int(threads)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x, y = load_case(name, x_path, y_path)
    model = model_for(name)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()  # softmax + categorical cross-entropy, as the Keras model computes it
    n = x.shape[0]

    def epoch():
        perm = torch.randperm(n)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()

    epoch()  # warm-up
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        epoch()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    steps = epochs * -(-n // batch)
    print(json.dumps({'samples_per_s': n * epochs / seconds, 'cpu_ms_per_step': 1000 * cpu / steps}))


if __name__ == '__main__':
    main()
