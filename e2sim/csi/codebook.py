"""The NR Type-I single-panel codebook (TS 38.214 5.2.2.2.1, codebookMode 1), ranks 1-4.

Port order follows 3GPP: ports ``0 .. P/2 - 1`` are one polarisation, ``P/2 .. P - 1`` the
other, and inside a polarisation port ``n1 * N2 + n2`` is the element in column ``n1``
(first dimension, N1) and row ``n2`` (second dimension, N2), i.e. N2 runs fastest. That is
the order of ``v_{l,m} = a_l (x) u_m`` below and of Sionna's ``grid_of_beams_dft``.

Formulas (5.2.2.2.1, P = 2 N1 N2 > 2):

- ``a_l = [1, e^{j 2 pi l / (O1 N1)}, ..., e^{j 2 pi l (N1 - 1) / (O1 N1)}]``,
  ``u_m`` the same over N2 with O2 (``u_m = 1`` when N2 = 1), ``phi_n = e^{j pi n / 2}``.
- rank 1 (Table 5.2.2.2.1-5): ``1/sqrt(P) [v_lm; phi_n v_lm]``, l = i11, m = i12, n = i2 in 0..3.
- rank 2 (Table 5.2.2.2.1-6): ``1/sqrt(2P) [[v_lm, v_l'm'], [phi_n v_lm, -phi_n v_l'm']]``.
- rank 3 (Table 5.2.2.2.1-7, P < 16):
  ``1/sqrt(3P) [[v_lm, v_l'm', v_lm], [phi_n v_lm, phi_n v_l'm', -phi_n v_lm]]``.
- rank 4 (Table 5.2.2.2.1-8, P < 16):
  ``1/sqrt(4P) [[v_lm, v_l'm', v_lm, v_l'm'],``
  ``[phi_n v_lm, phi_n v_l'm', -phi_n v_lm, -phi_n v_l'm']]``.
- ranks 2-4: ``l' = i11 + k1``, ``m' = i12 + k2`` with ``(k1, k2)`` from i13 via Table
  5.2.2.2.1-3 (rank 2) or 5.2.2.2.1-4 (ranks 3, 4); n = i2 in 0..1. The DFT phase is
  periodic in l and m, so ``l'`` beyond ``N1 O1 - 1`` needs no explicit modulo.
- 2 ports (Table 5.2.2.2.1-1): rank 1 ``1/sqrt(2) [1; j^n]``, n = 0..3; rank 2
  ``1/2 [[1, 1], [1, -1]]`` and ``1/2 [[1, 1], [j, -j]]``. Here i2 carries the codebook
  index and i11 = i12 = i13 = 0.

Every precoder has orthogonal columns of norm ``1/sqrt(r)`` (total power 1).

Counts (n_pmi = |i11| * |i12| * |i13| * |i2|) per configuration and rank:

===========================  ======  ======  ======  ======
ports (N1,N2) (O1,O2)        rank 1  rank 2  rank 3  rank 4
===========================  ======  ======  ======  ======
2                            4       2       --      --
4  (2,1) (4,1)               32      32      16      16
8  (2,2) (4,4)               256     512     384     384
8  (4,1) (4,1)               64      128     96      96
===========================  ======  ======  ======  ======

The flat PMI index of a rank is ``((i11 * |i12| + i12) * |i13| + i13) * |i2| + i2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

# Table 5.2.2.2.1-2 (the part for P <= 8): ports -> supported ((N1, N2), (O1, O2)).
SUPPORTED_CONFIGS: dict[int, tuple[tuple[tuple[int, int], tuple[int, int]], ...]] = {
    4: (((2, 1), (4, 1)),),
    8: (((2, 2), (4, 4)), ((4, 1), (4, 1))),
}

MAX_LAYERS = 4


@dataclass(frozen=True)
class PmiRanges:
    """How many values each PMI component takes at one rank (each component starts at 0)."""

    n_i11: int
    n_i12: int
    n_i13: int
    n_i2: int

    @property
    def n_pmi(self) -> int:
        return self.n_i11 * self.n_i12 * self.n_i13 * self.n_i2


def _k_offsets(n1: int, n2: int, o1: int, o2: int, rank: int) -> list[tuple[int, int]]:
    """(k1, k2) for each i13 value: Table 5.2.2.2.1-3 (rank 2) or 5.2.2.2.1-4 (ranks 3-4)."""
    if rank == 1:
        return [(0, 0)]
    if rank == 2:
        if n1 > n2 > 1:
            return [(0, 0), (o1, 0), (0, o2), (2 * o1, 0)]
        if n1 == n2:
            return [(0, 0), (o1, 0), (0, o2), (o1, o2)]
        if (n1, n2) == (2, 1):
            return [(0, 0), (o1, 0)]
        if n1 > 2 and n2 == 1:
            return [(0, 0), (o1, 0), (2 * o1, 0), (3 * o1, 0)]
        raise ValueError(f"no rank-2 i13 mapping for (N1, N2) = ({n1}, {n2})")
    table_34 = {
        (2, 1): [(o1, 0)],
        (4, 1): [(o1, 0), (2 * o1, 0), (3 * o1, 0)],
        (6, 1): [(o1, 0), (2 * o1, 0), (3 * o1, 0), (4 * o1, 0)],
        (2, 2): [(o1, 0), (0, o2), (o1, o2)],
        (3, 2): [(o1, 0), (0, o2), (o1, o2), (2 * o1, 0)],
    }
    if (n1, n2) not in table_34:
        raise ValueError(f"no rank-3/4 i13 mapping for (N1, N2) = ({n1}, {n2})")
    return table_34[(n1, n2)]


def _dft_beam(ell: torch.Tensor, m: torch.Tensor, n1: int, n2: int, o1: int,
              o2: int) -> torch.Tensor:
    """v_{l,m} for integer tensors l = ell, m of shape [B]: [B, N1 N2] complex128, N2 fastest."""
    a = torch.exp(2j * math.pi * ell[:, None].double() * torch.arange(n1) / (o1 * n1))
    u = torch.exp(2j * math.pi * m[:, None].double() * torch.arange(n2) / (o2 * n2))
    return (a[:, :, None] * u[:, None, :]).reshape(ell.shape[0], n1 * n2)


# Per rank: which beam (0 = v_lm, 1 = v_l'm') each column uses, and the sign of phi_n below.
_COLUMN_BEAM = {1: (0,), 2: (0, 1), 3: (0, 1, 0), 4: (0, 1, 0, 1)}
_COLUMN_SIGN = {1: (1, ), 2: (1, -1), 3: (1, 1, -1), 4: (1, 1, -1, -1)}


class TypeICodebook:
    """All Type-I single-panel precoders (codebookMode 1) of one port configuration.

    Args:
        n_ports: P, the number of CSI-RS ports: 2, 4 or 8.
        n1, n2, o1, o2: the antenna layout and oversampling of Table 5.2.2.2.1-2; left as
            None they default to the first supported entry ((2,1),(4,1) for 4 ports,
            (2,2),(4,4) for 8 ports). Ignored (must be None or 1) for 2 ports.

    Attributes:
        max_rank: highest rank the codebook defines (2 for 2 ports, else 4). Selection
            further limits rank to min(N_T, N_R, 4).
    """

    def __init__(self, n_ports: int, n1: int | None = None, n2: int | None = None,
                 o1: int | None = None, o2: int | None = None) -> None:
        if n_ports == 2:
            if any(x not in (None, 1) for x in (n1, n2, o1, o2)):
                raise ValueError("2 ports use Table 5.2.2.2.1-1: leave N1, N2, O1, O2 unset")
            n1 = n2 = o1 = o2 = 1
        elif n_ports in SUPPORTED_CONFIGS:
            default = SUPPORTED_CONFIGS[n_ports][0]
            layout = (n1 or default[0][0], n2 or default[0][1])
            oversampling = (o1 or default[1][0], o2 or default[1][1])
            if (layout, oversampling) not in SUPPORTED_CONFIGS[n_ports]:
                raise ValueError(
                    f"{n_ports} ports do not support (N1,N2)={layout} (O1,O2)={oversampling}; "
                    f"TS 38.214 Table 5.2.2.2.1-2 allows {SUPPORTED_CONFIGS[n_ports]}")
            (n1, n2), (o1, o2) = layout, oversampling
        else:
            raise ValueError(f"Type-I codebook here supports 2, 4 or 8 ports, not {n_ports}")
        assert n1 is not None and n2 is not None and o1 is not None and o2 is not None
        self.n_ports, self.n1, self.n2, self.o1, self.o2 = n_ports, n1, n2, o1, o2
        self.max_rank = 2 if n_ports == 2 else MAX_LAYERS
        self._precoders: dict[int, torch.Tensor] = {}
        self._indices: dict[int, torch.Tensor] = {}
        for rank in range(1, self.max_rank + 1):
            self._indices[rank] = self._all_indices(rank)
            self._precoders[rank] = self._build(rank, self._indices[rank])

    def __repr__(self) -> str:
        return (f"TypeICodebook(n_ports={self.n_ports}, n1={self.n1}, n2={self.n2}, "
                f"o1={self.o1}, o2={self.o2})")

    # -- index ranges and the flat index <-> (i11, i12, i13, i2) mapping ----------------------

    def ranges(self, rank: int) -> PmiRanges:
        """The value counts of i11, i12, i13 and i2 at ``rank`` (Tables 5.2.2.2.1-1, -5..-8)."""
        self._check_rank(rank)
        if self.n_ports == 2:
            return PmiRanges(1, 1, 1, 4 if rank == 1 else 2)
        n_i13 = len(_k_offsets(self.n1, self.n2, self.o1, self.o2, rank))
        return PmiRanges(self.n1 * self.o1, self.n2 * self.o2, n_i13, 4 if rank == 1 else 2)

    def n_pmi(self, rank: int) -> int:
        """How many precoders the codebook holds at ``rank``."""
        return self.ranges(rank).n_pmi

    def pmi_to_indices(self, rank: int, pmi: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Flat PMI index (any shape, int) -> (i11, i12, i13, i2), each of the same shape."""
        r = self.ranges(rank)
        pmi = torch.as_tensor(pmi, dtype=torch.int64)
        if bool(((pmi < 0) | (pmi >= r.n_pmi)).any()):
            raise ValueError(f"PMI index outside 0..{r.n_pmi - 1} at rank {rank}")
        i2 = pmi % r.n_i2
        rest = pmi // r.n_i2
        i13 = rest % r.n_i13
        rest = rest // r.n_i13
        return rest // r.n_i12, rest % r.n_i12, i13, i2

    def indices_to_pmi(self, rank: int, i11: torch.Tensor, i12: torch.Tensor,
                       i13: torch.Tensor, i2: torch.Tensor) -> torch.Tensor:
        """(i11, i12, i13, i2) tensors of one shape -> flat PMI index (int64, same shape)."""
        r = self.ranges(rank)
        parts = [torch.as_tensor(x, dtype=torch.int64) for x in (i11, i12, i13, i2)]
        for value, count, name in zip(parts, (r.n_i11, r.n_i12, r.n_i13, r.n_i2),
                                      ("i11", "i12", "i13", "i2"), strict=True):
            if bool(((value < 0) | (value >= count)).any()):
                raise ValueError(f"{name} outside 0..{count - 1} at rank {rank}")
        i11_, i12_, i13_, i2_ = parts
        return ((i11_ * r.n_i12 + i12_) * r.n_i13 + i13_) * r.n_i2 + i2_

    def indices(self, rank: int) -> torch.Tensor:
        """Every PMI's components at ``rank``: [n_pmi, 4] int64 columns (i11, i12, i13, i2)."""
        self._check_rank(rank)
        return self._indices[rank]

    # -- the precoders --------------------------------------------------------------------------

    def precoders(self, rank: int) -> torch.Tensor:
        """All precoders of ``rank``: [n_pmi, P, rank] complex64, row = flat PMI index."""
        self._check_rank(rank)
        return self._precoders[rank]

    def precoder(self, rank: int, i11: int, i12: int, i13: int, i2: int) -> torch.Tensor:
        """One precoder W: [P, rank] complex64."""
        pmi = self.indices_to_pmi(rank, torch.tensor(i11), torch.tensor(i12),
                                  torch.tensor(i13), torch.tensor(i2))
        return self._precoders[rank][int(pmi)]

    def _check_rank(self, rank: int) -> None:
        if not 1 <= rank <= self.max_rank:
            raise ValueError(f"{self!r} defines ranks 1..{self.max_rank}, not {rank}")

    def _all_indices(self, rank: int) -> torch.Tensor:
        n_pmi = self.n_pmi(rank)
        return torch.stack(self.pmi_to_indices(rank, torch.arange(n_pmi)), dim=-1)

    def _build(self, rank: int, idx: torch.Tensor) -> torch.Tensor:
        i11, i12, i13, i2 = idx.unbind(-1)
        phi = torch.exp(0.5j * math.pi * i2.double())  # [n_pmi]
        if self.n_ports == 2:
            return self._build_two_ports(rank, phi)
        k = torch.tensor(_k_offsets(self.n1, self.n2, self.o1, self.o2, rank))[i13]  # [n_pmi, 2]
        beams = (_dft_beam(i11, i12, self.n1, self.n2, self.o1, self.o2),
                 _dft_beam(i11 + k[:, 0], i12 + k[:, 1], self.n1, self.n2, self.o1, self.o2))
        columns = []
        for beam, sign in zip(_COLUMN_BEAM[rank], _COLUMN_SIGN[rank], strict=True):
            v = beams[beam]  # [n_pmi, P/2]
            columns.append(torch.cat([v, sign * phi[:, None] * v], dim=-1))
        w = torch.stack(columns, dim=-1) / math.sqrt(rank * self.n_ports)
        return w.to(torch.complex64)

    @staticmethod
    def _build_two_ports(rank: int, phi: torch.Tensor) -> torch.Tensor:
        # Table 5.2.2.2.1-1: rank 1 is [1; j^n]; rank 2 index n is [[1, 1], [j^n, -j^n]].
        ones = torch.ones_like(phi)
        if rank == 1:
            w = torch.stack([ones, phi], dim=-1)[..., None] / math.sqrt(2)
        else:
            w = torch.stack([torch.stack([ones, ones], -1), torch.stack([phi, -phi], -1)], -2) / 2
        return w.to(torch.complex64)
