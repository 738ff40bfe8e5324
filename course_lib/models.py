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
    if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
        raise ValueError(f"sizes must list at least an input and an output width, all >= 1; got {list(sizes)}.")
    if activation is not None and activation not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose from {sorted(_ACTIVATIONS)} or None.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout}.")
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
        hidden = [int(h) for h in hidden_dims]
        self.input_dim, self.latent_dim = int(input_dim), int(latent_dim)
        self.encoder = mlp([input_dim, *hidden, latent_dim], activation, batch_norm=batch_norm, dropout=dropout)
        self.decoder = mlp([latent_dim, *hidden[::-1], input_dim], activation, batch_norm=batch_norm, dropout=dropout)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Code of each row, shape (n, latent_dim)."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstruction from codes, shape (n, input_dim)."""
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
        hidden = [int(h) for h in hidden_dims]
        self.input_dim, self.latent_dim = int(input_dim), int(latent_dim)
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
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return ``(recon, mu, logvar)`` with shapes (n, D), (n, L), (n, L)."""
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar) if self.training else mu
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode ``n`` draws from the prior :math:`\\mathcal N(0, I)`; shape (n, input_dim)."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}.")
        device = self.fc_mu.weight.device
        z = torch.randn(n, self.latent_dim, generator=generator, device="cpu").to(device)
        was_training = self.training
        self.eval()
        out = self.decode(z)
        self.train(was_training)
        return out


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
