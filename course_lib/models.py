r"""Multilayer-perceptron autoencoders.

:class:`Autoencoder` maps :math:`x \mapsto z = e(x) \mapsto \hat x = d(z)`.
:class:`VAE` has a Gaussian encoder :math:`q(z\mid x) = \mathcal N(\mu(x), \operatorname{diag}\sigma^2(x))`,
a standard-normal prior and a decoder :math:`\hat x = d(z)` (the mean of a
unit-variance Gaussian likelihood).

``activation=None`` gives a purely linear network: such an autoencoder can do
no better than PCA, whatever its depth.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from ._validation import InputTypeError, check_positive_int, check_real

__all__ = ["mlp", "Autoencoder", "VAE", "eval_mode"]

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
}


def mlp(
    sizes: Sequence[int],
    activation: str | None = "relu",
    *,
    batch_norm: bool = False,
    dropout: float = 0.0,
) -> nn.Sequential:
    """A stack of ``Linear`` layers with an activation between them (none after the last).

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first: ``[in, h1, ..., out]``.
    activation : str or None
        One of ``"relu"``, ``"leaky_relu"``, ``"tanh"``, ``"elu"``, ``"gelu"``, or ``None`` (linear).
    batch_norm : bool
        Insert ``BatchNorm1d`` after each hidden ``Linear`` layer.
    dropout : float
        Dropout probability after each hidden activation.
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise InputTypeError(f"sizes must be a sequence of layer widths, got {type(sizes).__name__}.")
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output width; got {list(sizes)}.")
    sizes = [check_positive_int(s, f"sizes[{i}] (a layer width)") for i, s in enumerate(sizes)]
    if activation is not None and activation not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose from {sorted(_ACTIVATIONS)} or None.")
    dropout = check_real(dropout, "dropout", low=0.0, high=1.0, high_open=True)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(int(a), int(b)))
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(int(b)))
            if activation is not None:
                layers.append(_ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def _widths(hidden_dims: Sequence[int]) -> list[int]:
    if isinstance(hidden_dims, (str, bytes, int)) or not hasattr(hidden_dims, "__iter__"):
        raise InputTypeError(f"hidden_dims must be a sequence of layer widths such as (64, 32), got {hidden_dims!r}.")
    return [check_positive_int(h, f"hidden_dims[{i}]") for i, h in enumerate(hidden_dims)]


def _check_width(t: torch.Tensor, width: int, name: str, what: str) -> None:
    if not isinstance(t, torch.Tensor):
        raise InputTypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}; convert with torch.as_tensor({name}).")
    if t.dim() == 0 or t.shape[-1] != width:
        raise ValueError(
            f"{name} has shape {tuple(t.shape)} but the model expects {width} {what} in its last dimension: "
            "pass the columns the model was built for."
        )


class Autoencoder(nn.Module):
    """A deterministic MLP autoencoder with a symmetric decoder.

    Parameters
    ----------
    input_dim : int
        Number of input features ``D``.
    latent_dim : int
        Size ``L`` of the code.
    hidden_dims : sequence of int, default (64, 32)
        Encoder hidden widths; the decoder mirrors them.
    activation : str or None, default "relu"
        Hidden activation; ``None`` makes the whole network linear.
    batch_norm : bool, default False
    dropout : float, default 0.0

    Shapes: ``encode`` (n, D) -> (n, L); ``decode`` (n, L) -> (n, D);
    ``forward`` (n, D) -> (n, D).
    """

    def __init__(
        self,
        input_dim: int,
        latent_dim: int,
        hidden_dims: Sequence[int] = (64, 32),
        activation: str | None = "relu",
        *,
        batch_norm: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        hidden = _widths(hidden_dims)
        self.input_dim = check_positive_int(input_dim, "input_dim")
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.encoder = mlp([input_dim, *hidden, latent_dim], activation, batch_norm=batch_norm, dropout=dropout)
        self.decoder = mlp([latent_dim, *hidden[::-1], input_dim], activation, batch_norm=batch_norm, dropout=dropout)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Code of each row, shape (n, latent_dim)."""
        _check_width(x, self.input_dim, "x", "features")
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstruction from codes, shape (n, input_dim)."""
        _check_width(z, self.latent_dim, "z", "latent dimensions")
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of ``x``, shape (n, input_dim)."""
        return self.decode(self.encode(x))


class VAE(nn.Module):
    r"""A variational autoencoder with a Gaussian encoder and an MLP decoder.

    Parameters
    ----------
    input_dim : int
        Number of input features ``D``.
    latent_dim : int
        Number of latent dimensions ``L``.
    hidden_dims : sequence of int, default (64, 32)
        Encoder hidden widths; the decoder mirrors them.
    activation : str or None, default "leaky_relu"
    batch_norm : bool, default False
    dropout : float, default 0.0

    Notes
    -----
    The encoder's last hidden layer feeds two heads, :math:`\mu` and
    :math:`\log\sigma^2`. ``forward`` samples :math:`z` with the
    reparameterisation trick in training mode and uses :math:`z = \mu` in
    evaluation mode (``model.eval()``).
    """

    def __init__(
        self,
        input_dim: int,
        latent_dim: int,
        hidden_dims: Sequence[int] = (64, 32),
        activation: str | None = "leaky_relu",
        *,
        batch_norm: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        hidden = _widths(hidden_dims)
        self.input_dim = check_positive_int(input_dim, "input_dim")
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        if hidden:
            self.encoder = mlp([input_dim, *hidden, hidden[-1]], activation, batch_norm=batch_norm, dropout=dropout)[:-1]
            head_in = hidden[-1]
        else:
            self.encoder = nn.Identity()
            head_in = int(input_dim)
        self.fc_mu = nn.Linear(head_in, latent_dim)
        self.fc_logvar = nn.Linear(head_in, latent_dim)
        self.decoder = mlp([latent_dim, *hidden[::-1], input_dim], activation, batch_norm=batch_norm, dropout=dropout)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior parameters ``(mu, logvar)``, each of shape (n, latent_dim)."""
        _check_width(x, self.input_dim, "x", "features")
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h)

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        r"""Draw :math:`z = \mu + \sigma \odot \epsilon`, :math:`\epsilon \sim \mathcal N(0, I)`; shape of ``mu``.

        Gradients flow to ``mu`` and ``logvar`` because the randomness sits in
        :math:`\epsilon` only.
        """
        std = torch.exp(0.5 * logvar)
        return mu + std * torch.randn_like(std)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder mean, shape (n, input_dim)."""
        _check_width(z, self.latent_dim, "z", "latent dimensions")
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return ``(recon, mu, logvar)`` with shapes (n, D), (n, L), (n, L)."""
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar) if self.training else mu
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode ``n`` draws from the prior :math:`\\mathcal N(0, I)`; shape (n, input_dim)."""
        n = check_positive_int(n, "n")
        device = self.fc_mu.weight.device
        z = torch.randn(n, self.latent_dim, generator=generator, device="cpu").to(device)
        with eval_mode(self):
            return self.decode(z)


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in evaluation mode for a ``with`` block, then restore its previous mode.

    Dropout and batch normalisation behave deterministically inside the block;
    on leaving it (even through an exception) ``model.training`` is what it was.

    Examples
    --------
    >>> with eval_mode(model):  # doctest: +SKIP
    ...     codes = model.encode(x)[0]
    """
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)
