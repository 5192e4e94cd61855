"""The PyTorch peer of `npm run bench:parallel` and `npm run bench:distributed`:
the bench's MLP or CNN (bench/pytorch_train.py's models, Adam, the data the
bench wrote) trained with DistributedDataParallel on the Gloo backend, as
PyTorch trains on several CPU processes: `world` processes of one thread
each on 127.0.0.1, every global batch split into the processes' rows as
rxkeras splits it (splitRows), the gradients all-reduced by DDP. With
world 1 it is the same loop in one process without DDP. Rank 0 prints the
samples/s of the timed epochs (after one warm-up epoch) as JSON.
Usage: pytorch_ddp.py name x.f32 y.f32 batch epochs world port"""
import json
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_train import load_case, model_for  # noqa: E402


def rows(n, size, rank):
    """splitRows in src/training/split-rows.ts: the first shards get the extra rows."""
    base, extra = divmod(n, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def member(rank, name, x_path, y_path, batch, epochs, world, port, out):
    torch.set_num_threads(1)
    if world > 1:
        dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=world)
    torch.manual_seed(0)  # the same model and the same permutations on every rank
    x, y = load_case(name, x_path, y_path)
    model = model_for(name)
    if world > 1:
        model = DistributedDataParallel(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    # Each rank's mean loss weighted by its share of the global batch: DDP averages the gradients over the ranks.
    loss_fn = nn.CrossEntropyLoss(reduction='sum')
    n = x.shape[0]

    def epoch():
        perm = torch.randperm(n)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            start, end = rows(len(idx), world, rank)
            part = idx[start:end]
            opt.zero_grad()
            loss = loss_fn(model(x[part]), y[part]) * world / len(idx)
            loss.backward()
            opt.step()

    epoch()  # warm-up
    if world > 1:
        dist.barrier()
    start = time.perf_counter()
    for _ in range(epochs):
        epoch()
    seconds = time.perf_counter() - start
    if rank == 0:
        out.put(n * epochs / seconds)
    if world > 1:
        dist.destroy_process_group()


def main():
    name, x_path, y_path, batch, epochs, world, port = sys.argv[1:8]
    batch, epochs, world, port = int(batch), int(epochs), int(world), int(port)
    ctx = mp.get_context('spawn')
    out = ctx.SimpleQueue()
    args = (name, x_path, y_path, batch, epochs, world, port, out)
    if world == 1:
        member(0, *args)
    else:
        mp.start_processes(member, args=args, nprocs=world, start_method='spawn')
    print(json.dumps({'samples_per_s': out.get()}))


if __name__ == '__main__':
    main()
