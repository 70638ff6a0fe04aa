"""Ray-level channel state that evolves with UE displacement (`RayField`).

A field holds, per UE, every ray's complex gain on every (rx, tx) antenna pair, the
Doppler phase slope of the ray along the UE's direction of motion and the delay of the
path the ray belongs to. Moving the UE by x metres along its track rotates ray r by
exp(j k_r x), k_r = 2 pi (r_hat . v_hat) / lambda: the plane-wave phase progression of
TR 38.901 eq. (7.5-22) written per metre rather than per second, so one field serves any
speed and any report period. The frequency response of path p is exp(-j 2 pi f tau_p).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

# Below this displacement a float32 phase (slope ~ 2 pi / lambda ~ 100 rad/m) is exact to
# ~1e-3 rad; beyond it the phase is computed in float64.
_FLOAT32_SAFE_M = 100.0


@dataclass(frozen=True)
class RayField:
    """Rays of ``n`` UEs, padded to ``n_path`` paths of ``n_ray`` rays (zero gain = padding).

    coef:  [n, n_rx * n_tx, n_path, n_ray] complex64, gain of each ray on each antenna
           pair (rx-major, tx in 3GPP port order).
    slope: [n, n_path, n_ray] float32, Doppler phase slope [rad/m] along the track.
    delay: [n, n_path] float32, path delay [s].
    """

    coef: torch.Tensor
    slope: torch.Tensor
    delay: torch.Tensor

    @property
    def n(self) -> int:
        return int(self.coef.shape[0])

    def mean_power(self) -> torch.Tensor:
        """Local mean of |h|^2 per antenna pair (fading averaged out): [n] float32."""
        return torch.view_as_real(self.coef).square().sum(dim=(2, 3, 4)).mean(dim=1)

    def scaled(self, factor: torch.Tensor) -> RayField:
        """Amplitudes multiplied by ``factor`` [n] (real)."""
        return RayField(self.coef * factor.to(self.coef.dtype)[:, None, None, None],
                        self.slope, self.delay)

    def take(self, index: torch.Tensor) -> RayField:
        """The UEs at ``index`` ([m] int64), in that order."""
        return RayField(self.coef[index], self.slope[index], self.delay[index])

    def put(self, index: torch.Tensor, other: RayField) -> None:
        """Overwrite UEs ``index`` with ``other`` in place (shapes must agree)."""
        self.coef[index] = other.coef
        self.slope[index] = other.slope
        self.delay[index] = other.delay

    def steering(self, freqs_hz: torch.Tensor) -> torch.Tensor:
        """exp(-j 2 pi f tau_p) at the subband centres ``freqs_hz`` [n_sb]: [n, n_path, n_sb].

        Depends only on the delays: compute it once per field and pass it to `response`.
        """
        phase = -2.0 * math.pi * self.delay[..., None] * freqs_hz
        return torch.complex(torch.cos(phase), torch.sin(phase))

    def response(self, displacement_m: torch.Tensor, steering: torch.Tensor,
                 path_weight: torch.Tensor | None = None) -> torch.Tensor:
        """Channel after moving ``displacement_m`` from where the field was drawn.

        displacement_m: [n] or [n, n_path] metres along the track (negative: before).
        steering: [n, n_path, n_sb] from `steering`.
        path_weight: optional [n, n_path] real amplitude weight of each path.
        Output: [n, n_sb, n_rx * n_tx] complex64.
        """
        shift = displacement_m[:, None, None] if displacement_m.dim() == 1 else \
            displacement_m[..., None]
        if float(shift.abs().max()) < _FLOAT32_SAFE_M:
            phase = self.slope * shift.float()
        else:  # float64 and wrapping keep the phase exact after kilometres of travel
            phase = torch.remainder(self.slope.double() * shift.double(), 2 * math.pi).float()
        rot = torch.complex(torch.cos(phase), torch.sin(phase))                 # [n, p, r]
        per_path = (self.coef * rot[:, None]).sum(dim=-1)                       # [n, a, p]
        if path_weight is not None:
            per_path = per_path * path_weight[:, None, :]
        return torch.bmm(per_path, steering).transpose(1, 2)                  # [n, s, a]


def pad_paths(field: RayField, n_path: int, n_ray: int) -> RayField:
    """Zero-pad paths and rays so that fields of different origins can be stacked."""
    n, a, p, r = field.coef.shape
    coef = field.coef.new_zeros((n, a, n_path, n_ray))
    slope = field.slope.new_zeros((n, n_path, n_ray))
    delay = field.delay.new_zeros((n, n_path))
    coef[:, :, :p, :r] = field.coef
    slope[:, :p, :r] = field.slope
    delay[:, :p] = field.delay
    return RayField(coef, slope, delay)


def join_paths(first: RayField, second: RayField) -> RayField:
    """One field holding the paths of ``first`` then those of ``second`` (same UEs)."""
    return RayField(torch.cat([first.coef, second.coef], dim=2),
                    torch.cat([first.slope, second.slope], dim=1),
                    torch.cat([first.delay, second.delay], dim=1))


def crossfade(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Amplitude weights (a, b) with a^2 + b^2 = 1 to slide from one field to the next.

    weight: [n] in [0, 1]. Two independent fields mixed this way keep their mean power.
    """
    angle = 0.5 * math.pi * weight.clamp(0.0, 1.0)
    return torch.cos(angle), torch.sin(angle)
