"""Work sized by the user, done in pieces: `generate` and `evaluate` draw any number of images in
memory for one piece (`CHUNK` images) at a time, with the same numbers as drawing them all at once.

`NoiseRows` hands out the rows of one seeded noise draw piece by piece; `ClusterRows` does the same
for a self-conditioned model's noise inside one cluster; `NoisePieces` deals the pieces of one draw
out to the processes of `predict`; `progress` is the bar shown on long work.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import torch
from torch.utils.data import IterableDataset
from tqdm import tqdm

from gan_lightning.noise import draw_noise

CHUNK = 1000  # images decoded at once: a few MB at 64 px, whatever the count asked for
# (a multiple of 8: the CPU's matrix kernels then give each row the bits of one batch of all the rows)
# torch's CPU sampler turns uniform numbers into normal ones in blocks of this many (see NoiseRows).
ALIGN = 16


def spans(n: int, size: int = CHUNK) -> Iterator[tuple[int, int]]:
    """(start, count) of consecutive pieces of at most `size` covering range(n)."""
    for start in range(0, n, size):
        yield start, min(size, n - start)


class NoiseRows:
    """The rows of the one draw `draw_noise(n, hparams, generator, "cpu", truncation)`, handed out in
    pieces of any size: the same numbers, with only a piece in memory.

    torch's CPU normal sampler consumes one uniform number per output, transforms them in blocks of
    16, and a draw whose size is not a multiple of 16 redraws its last 16 (a draw under 16 numbers
    takes another path). So this draws in multiples of 16 rows, and a tail under 16 numbers joins
    the piece before it: piece by piece, the generator gives what the one draw gives.
    `tests/unit/commands/test_chunked.py` holds the equality for both noises and odd sizes.
    """

    def __init__(self, hparams, n: int, generator: torch.Generator, truncation: float = 1.0) -> None:
        self.hparams, self.left, self.generator, self.truncation = hparams, n, generator, truncation
        self.buffer = torch.empty(0, hparams.latent_dim)

    def take(self, k: int) -> torch.Tensor:
        """The next `k` rows (k, latent_dim)."""
        while len(self.buffer) < k:
            self.buffer = torch.cat([self.buffer, self._draw(k - len(self.buffer))])
        rows, self.buffer = self.buffer[:k], self.buffer[k:]
        return rows

    def _draw(self, rows: int) -> torch.Tensor:
        if rows > self.left:
            raise RuntimeError(f"NoiseRows: {rows} more rows asked of a draw with {self.left} left")
        rows = min(-(-rows // ALIGN) * ALIGN, self.left)
        if (self.left - rows) * self.hparams.latent_dim < ALIGN:  # a tail the sampler would draw otherwise
            rows = self.left
        self.left -= rows
        return draw_noise(rows, self.hparams, self.generator, "cpu", self.truncation)


class ClusterRows:
    """`model.noise_in_clusters(torch.full((n,), cluster), Generator().manual_seed(seed), truncation)`
    in pieces, with the same numbers.

    That one draw takes the noise (n, latent_dim) and then n angles from one generator. Here the noise
    comes from `NoiseRows`, and the angles from a second generator seeded alike and moved past the
    noise (drawn and dropped piece by piece); each piece goes through `noise_in_clusters` itself, so
    the cluster geometry stays the model's own."""

    def __init__(self, model, cluster: int, n: int, seed: int, truncation: float = 1.0) -> None:
        self.model, self.cluster, self.truncation = model, cluster, truncation
        self.noise = NoiseRows(model.hparams, n, torch.Generator().manual_seed(seed), truncation)
        self.angles = torch.Generator().manual_seed(seed)
        skipped = NoiseRows(model.hparams, n, self.angles, truncation)
        for _, k in spans(n):
            skipped.take(k)

    def take(self, k: int) -> torch.Tensor:
        z = self.noise.take(k)
        # noise_in_clusters draws its noise through sample_z: give it this piece's rows instead, so
        # that only its angles come from the generator passed in.
        self.model.sample_z = lambda n, generator=None, truncation=1.0: z
        try:
            return self.model.noise_in_clusters(torch.full((k,), self.cluster), self.angles, self.truncation)
        finally:
            del self.model.sample_z


class NoisePieces(IterableDataset):
    """`predict`'s batches: (index (k,), z (k, latent_dim), labels (k,)) pieces of `piece` rows of the
    one draw `NoiseRows(hparams, len(labels), Generator().manual_seed(seed))`, for process `rank` of
    `world_size`. Piece i goes to process i % world_size, so each batch step of all processes together
    covers consecutive pieces, and the writer can write them as they come. Every process yields as
    many pieces (the writer gathers at each one); a process past the end yields a one-row filler with
    index -1, which the writer drops. Each process draws the whole noise and keeps its pieces: the
    draw is cheap next to decoding, and only a piece is in memory.
    """

    def __init__(
        self, hparams, labels: torch.Tensor, seed: int, piece: int, rank: int = 0, world_size: int = 1
    ) -> None:
        self.hparams, self.labels, self.seed, self.piece = hparams, labels, seed, piece
        self.rank, self.world_size = rank, world_size
        self.pieces = -(-len(labels) // piece)

    def __len__(self) -> int:
        return -(-self.pieces // self.world_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        noise = NoiseRows(self.hparams, len(self.labels), torch.Generator().manual_seed(self.seed))
        mine = 0
        for i, (start, k) in enumerate(spans(len(self.labels), self.piece)):
            z = noise.take(k)  # every process walks the whole draw: the generator gives each piece its rows
            if i % self.world_size == self.rank:
                mine += 1
                yield torch.arange(start, start + k), z, self.labels[start : start + k]
        for _ in range(len(self) - mine):
            yield torch.tensor([-1]), torch.zeros(1, self.hparams.latent_dim), self.labels[:1]


def progress(total: int, what: str) -> tqdm:
    """A bar on stderr for long work: it appears after a second, and only on a terminal."""
    return tqdm(total=total, desc=what, unit="img", delay=1.0, leave=False, disable=None, file=sys.stderr)
