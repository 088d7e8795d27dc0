"""A CLIP-style multimodal model (Radford et al. 2021) on the 8x8 digits and captions about them.

Two encoders map their own kind of data into one shared space of unit vectors:

    image (B, 1, 8, 8) -> ViT (2x2 patches, class token)                  -> (B, D) -> normalise
    caption "7, written by hand" -> word ids -> text transformer (<eos>) -> (B, D) -> normalise

A batch of B (image, caption) pairs gives a B x B matrix of cosine similarities times a learned
temperature exp(t); the symmetric contrastive (InfoNCE) loss asks each image to pick its own caption
out of the B captions, and each caption its own image. Nothing tells the model which digit a picture
shows: it learns that from which captions go with which pictures.

Captions come from templates in varied phrasings, with the digit as a word or a numeral ("a
handwritten seven", "the digit 7", "7, written by hand"). The test uses phrasings never seen in
training:

* zero-shot classification: embed one prompt per digit (averaged over the held-out phrasings) and
  label each held-out test image with the digit whose prompt is most similar;
* image-to-caption retrieval: every test image gets a caption in a held-out phrasing; an image is
  retrieved right when its most similar caption, among all the test captions, names its digit
  (captions of the same digit are interchangeable, so the exact caption cannot be told apart).

The word-level vocabulary is built from the training captions in this file (an unknown word maps to
<unk>); a caption is its word ids followed by <eos>, whose final state is the caption's embedding.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import nn, optim
from .._tensor import Tensor, as_tensor, zeros
from ..data import load_digits
from ..grad_mode import no_grad
from ..nn import functional as F
from ..random import manual_seed
from ..serialization import load, save
from .registry import example
from .vit import ViT, ViTConfig

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TRAIN_TEMPLATES = (
    "a handwritten {word}",
    "the digit {digit}",
    "{digit}, written by hand",
    "the number {word}",
    "a drawing of the number {word}",
    "a picture of {a_digit}",
    "someone wrote {a_word}",
    "this is {a_digit}",
    "a small scan of the digit {word}",
    "{word}",
    "{a_digit} drawn in ink",
    "{a_word}, written by hand",
    "the handwritten digit {digit}",
    "a scan of {a_word}",
)
HELD_OUT_TEMPLATES = (  # known words in new combinations: never seen in training
    "a handwritten {digit}",
    "a picture of the digit {word}",
    "the number {digit} drawn in ink",
    "this is the digit {word}",
    "{a_word}, drawn by hand",
)
SPECIALS = ("<pad>", "<unk>", "<eos>")
PAD, UNK, EOS = 0, 1, 2


def caption(template: str, digit: int) -> str:
    """Fill a template: {word} 'seven', {digit} '7', {a_word} 'a seven' / 'an eight', {a_digit}."""
    word = NUMBER_WORDS[digit]
    article = "an" if word[0] in "aeiou" else "a"  # the numeral is read aloud the same way
    return template.format(word=word, digit=digit, a_word=f"{article} {word}", a_digit=f"{article} {digit}")


def words(text: str) -> list[str]:
    """Lower-cased words, numbers and punctuation marks: '7, written' -> ['7', ',', 'written']."""
    return re.findall(r"\w+|[^\w\s]", text.lower())


class CaptionVocab:
    """A word-level vocabulary: <pad> 0, <unk> 1, <eos> 2, then the words of `texts` sorted."""

    def __init__(self, texts: Sequence[str]) -> None:
        known = sorted({w for t in texts for w in words(t)})
        self.itos = [*SPECIALS, *known]
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, texts: Sequence[str], length: int) -> np.ndarray:
        """(N, length) int64 ids: the words, <eos>, then <pad>s; too long a caption is an error."""
        ids = np.full((len(texts), length), PAD, np.int64)
        for i, text in enumerate(texts):
            row = [self.stoi.get(w, UNK) for w in words(text)] + [EOS]
            if len(row) > length:
                raise ValueError(
                    f"CaptionVocab: {text!r} has {len(row)} tokens with <eos>, more "
                    f"than the context of {length}"
                )
            ids[i, : len(row)] = row
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        return " ".join(self.itos[i] for i in ids if i not in (PAD, EOS))


@dataclass
class CLIPConfig:
    embed_dim: int = 32  # the shared space
    image_width: int = 48
    image_layers: int = 2
    text_width: int = 32
    text_layers: int = 1
    nhead: int = 4
    context: int = 10  # caption tokens, <eos> included
    dropout: float = 0.0
    init_temperature: float = 0.07


class TextEncoder(nn.Module):
    """Word ids (B, L) -> caption embedding (B, embed_dim): a pre-norm transformer encoder over
    token and learned position embeddings, read out at the <eos> token (as CLIP does)."""

    def __init__(self, vocab_size: int, config: CLIPConfig) -> None:
        super().__init__()
        d = config.text_width
        self.token_embed = nn.Embedding(vocab_size, d, padding_idx=PAD)
        self.pos_embed = nn.Parameter(zeros(1, config.context, d))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        layer = nn.TransformerEncoderLayer(
            d, config.nhead, 2 * d, config.dropout, "gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, config.text_layers)
        self.norm = nn.LayerNorm(d)
        self.proj = nn.Linear(d, config.embed_dim, bias=False)

    def forward(self, ids: Tensor) -> Tensor:
        pad = ids == PAD  # (B, L): True where there is no token
        x = self.token_embed(ids) + self.pos_embed[:, : ids.shape[1]]  # (B, L, d)
        x = self.encoder(x, src_key_padding_mask=pad)  # (B, L, d)
        eos = (ids == EOS).numpy().argmax(1)  # (B,): where each caption ends
        return self.proj(self.norm(x[np.arange(ids.shape[0]), eos]))  # (B, embed_dim)


class CLIP(nn.Module):
    """forward(images, ids) -> (B_img, B_txt) similarity logits: exp(t) * cosine similarity."""

    def __init__(self, vocab_size: int, config: CLIPConfig | None = None) -> None:
        super().__init__()
        cfg = config or CLIPConfig()
        self.config = cfg
        self.image_encoder = ViT(
            ViTConfig(
                d_model=cfg.image_width,
                nhead=cfg.nhead,
                num_layers=cfg.image_layers,
                dim_feedforward=2 * cfg.image_width,
                dropout=cfg.dropout,
                num_classes=cfg.embed_dim,
            )
        )
        self.text_encoder = TextEncoder(vocab_size, cfg)
        self.logit_scale = nn.Parameter(as_tensor(np.array(math.log(1 / cfg.init_temperature), np.float32)))

    def temperature(self) -> float:
        """The softmax temperature 1 / exp(t) the logits are divided by (CLIP starts at 0.07)."""
        return 1.0 / math.exp(min(max(self.logit_scale.item(), 0.0), math.log(100.0)))

    def encode_image(self, images: Tensor) -> Tensor:
        return F.normalize(self.image_encoder(images), dim=-1)  # (B, D), unit vectors

    def encode_text(self, ids: Tensor) -> Tensor:
        return F.normalize(self.text_encoder(ids), dim=-1)  # (B, D), unit vectors

    def forward(self, images: Tensor, ids: Tensor) -> Tensor:
        scale = self.logit_scale.clamp(0.0, math.log(100.0)).exp()  # temperature <= 100, as CLIP
        return scale * (self.encode_image(images) @ self.encode_text(ids).T)  # (B, B)


def contrastive_loss(logits: Tensor) -> Tensor:
    """Symmetric InfoNCE: cross-entropy of each image over captions and each caption over images,
    the matching pair being on the diagonal."""
    labels = as_tensor(np.arange(logits.shape[0]))
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


def class_prompts(model: CLIP, vocab: CaptionVocab, templates: Sequence[str]) -> Tensor:
    """(10, D) unit vectors: each digit's prompt embeddings averaged over `templates`."""
    texts = [caption(t, d) for d in range(10) for t in templates]
    with no_grad():
        emb = model.encode_text(as_tensor(vocab.encode(texts, model.config.context)))
    return F.normalize(emb.reshape(10, len(templates), -1).mean(1), dim=-1)


def zero_shot_predict(model: CLIP, images: np.ndarray, prompts: Tensor) -> np.ndarray:
    with no_grad():
        return (model.encode_image(as_tensor(images)) @ prompts.T).numpy().argmax(1)


def retrieval_accuracy(
    model: CLIP, images: np.ndarray, labels: np.ndarray, vocab: CaptionVocab, rng: np.random.Generator
) -> dict[str, float]:
    """Each image gets a caption in a random held-out phrasing; top-1 retrieval both ways counts
    as right when the retrieved item shows (or names) the same digit."""
    texts = [caption(HELD_OUT_TEMPLATES[rng.integers(len(HELD_OUT_TEMPLATES))], int(y)) for y in labels]
    with no_grad():
        sim = (
            model.encode_image(as_tensor(images))
            @ model.encode_text(as_tensor(vocab.encode(texts, model.config.context))).T
        ).numpy()
    return {
        "image_to_caption": float(np.mean(labels[sim.argmax(1)] == labels)),
        "caption_to_image": float(np.mean(labels[sim.argmax(0)] == labels)),
    }


def plot_similarity(
    model: CLIP, images: np.ndarray, texts: Sequence[str], vocab: CaptionVocab, path: str
) -> str:
    """The image-caption cosine similarity matrix, the images drawn along the rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    with no_grad():
        sim = (
            model.encode_image(as_tensor(images))
            @ model.encode_text(as_tensor(vocab.encode(texts, model.config.context))).T
        ).numpy()
    n = len(images)
    fig, ax = plt.subplots(figsize=(0.6 * len(texts) + 2.2, 0.6 * n + 2.4))
    im = ax.imshow(sim, cmap="viridis", vmin=-1, vmax=1)
    for i in range(n):
        for j in range(len(texts)):
            ax.text(
                j,
                i,
                f"{sim[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=6,
                color="black" if sim[i, j] > 0.3 else "white",
            )
        thumb = OffsetImage(images[i, 0], cmap="gray_r", zoom=2.2)
        ax.add_artist(
            AnnotationBbox(
                thumb, (-0.5, i), xybox=(-14, 0), xycoords="data", boxcoords="offset points", frameon=False
            )
        )
    ax.set_xticks(range(len(texts)), texts, rotation=60, ha="right", fontsize=7)
    ax.set_yticks([])
    fig.colorbar(im, ax=ax, fraction=0.04, label="cosine similarity")
    ax.set_title("CLIP on digits: test images x held-out captions", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _shift(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by up to one pixel in each direction (zeros shifted in): augmentation."""
    padded = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.empty_like(images)
    dy, dx = rng.integers(0, 3, (2, len(images)))
    for i in range(len(images)):
        out[i] = padded[i, :, dy[i] : dy[i] + 8, dx[i] : dx[i] + 8]
    return out


@example("clip", "CLIP-style image-text model on digits and captions: zero-shot classification")
def run(
    out_dir: str = "runs/clip",
    quick: bool = False,
    epochs: int = 100,
    batch_size: int = 64,
    lr: float = 3e-3,
    config: CLIPConfig | None = None,
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Train the two encoders contrastively; report zero-shot accuracy and retrieval on test.

    quick=True trains a narrower model for 6 epochs (about 25% zero-shot accuracy)."""
    manual_seed(seed)
    rng = np.random.default_rng(seed)
    os.makedirs(out_dir, exist_ok=True)
    d = load_digits()
    x_val, y_val = d["X_train"][:200], d["y_train"][:200]
    x_train, y_train = d["X_train"][200:], d["y_train"][200:]
    if quick:  # a narrower image encoder, few epochs, a higher learning rate
        epochs, lr, config = 6, 5e-3, config or CLIPConfig(image_width=32, image_layers=1)
    vocab = CaptionVocab([caption(t, k) for t in TRAIN_TEMPLATES for k in range(10)])
    model = CLIP(len(vocab), config)
    context = model.config.context
    steps = epochs * (len(x_train) // batch_size)
    opt = optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    ckpt = os.path.join(out_dir, "best.ckpt")
    history: dict[str, list[float]] = {"loss": [], "val_zero_shot": [], "temperature": []}
    best, start = -1.0, time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        order = rng.permutation(len(x_train))
        running = []
        for b in range(len(x_train) // batch_size):  # drop the last partial batch
            idx = order[b * batch_size : (b + 1) * batch_size]
            texts = [
                caption(TRAIN_TEMPLATES[t], int(y))  # a fresh phrasing each time
                for t, y in zip(rng.integers(len(TRAIN_TEMPLATES), size=len(idx)), y_train[idx])
            ]
            logits = model(as_tensor(_shift(x_train[idx], rng)), as_tensor(vocab.encode(texts, context)))
            loss = contrastive_loss(logits)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            running.append(loss.item())
        model.eval()
        val_acc = float(
            np.mean(zero_shot_predict(model, x_val, class_prompts(model, vocab, TRAIN_TEMPLATES)) == y_val)
        )
        temperature = model.temperature()
        for key, value in (
            ("loss", float(np.mean(running))),
            ("val_zero_shot", val_acc),
            ("temperature", temperature),
        ):
            history[key].append(value)
        if val_acc > best:
            best = val_acc
            save({"model": model.state_dict(), "epoch": epoch}, ckpt)
        if verbose:
            print(
                f"epoch {epoch:3d}  loss {history['loss'][-1]:.4f}  val zero-shot {val_acc:.3f}"
                f"  temperature {temperature:.4f}"
            )
    train_time = time.perf_counter() - start
    model.load_state_dict(load(ckpt)["model"])
    model.eval()
    prompts = class_prompts(model, vocab, HELD_OUT_TEMPLATES)
    zero_shot = float(np.mean(zero_shot_predict(model, d["X_test"], prompts) == d["y_test"]))
    single = [
        float(np.mean(zero_shot_predict(model, d["X_test"], class_prompts(model, vocab, [t])) == d["y_test"]))
        for t in HELD_OUT_TEMPLATES
    ]
    retrieval = retrieval_accuracy(model, d["X_test"], d["y_test"], vocab, rng)
    firsts = [int(np.flatnonzero(d["y_test"] == k)[0]) for k in range(10)]
    texts = [caption(HELD_OUT_TEMPLATES[k % len(HELD_OUT_TEMPLATES)], k) for k in range(10)]
    picture = plot_similarity(
        model, d["X_test"][firsts], texts, vocab, os.path.join(out_dir, "similarity.png")
    )
    return {
        "zero_shot_accuracy": zero_shot,
        "zero_shot_single_prompt_mean": float(np.mean(single)),
        "image_to_caption_accuracy": retrieval["image_to_caption"],
        "caption_to_image_accuracy": retrieval["caption_to_image"],
        "temperature": model.temperature(),
        "train_time_s": train_time,
        "num_params": sum(p.numel() for p in model.parameters()),
        "history": history,
        "checkpoint": ckpt,
        "similarity": picture,
    }
