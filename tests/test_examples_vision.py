"""The vision examples learn, at reduced sizes: the small ResNet classifies the digits, the U-Net
removes noise, every normalisation scheme trains the same CNN, and LoRA adapts a pretrained MLP
with few trainable parameters and merges exactly.

The training tests run each example with quick=True; the thresholds are stated in each test.
These models multiply small matrices, for which BLAS and Numba threads only add synchronisation
cost on a shared machine, so the module runs with one thread of each (restored afterwards).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from autograd_nn import as_tensor, manual_seed, nn
from autograd_nn.examples import lora, normalization, resnet, unet


@pytest.fixture(scope="module", autouse=True)
def _single_thread():
    numba = pytest.importorskip("numba")
    threadpoolctl = pytest.importorskip("threadpoolctl")
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    with threadpoolctl.threadpool_limits(limits=1):
        yield
    numba.set_num_threads(previous)


# ---- ResNet --------------------------------------------------------------------------------------
def test_resnet_shapes_and_projection_shortcut():
    manual_seed(0)
    model = resnet.ResNet(resnet.ResNetConfig(widths=(8, 16, 32), blocks=(1, 2, 1)))
    assert model(as_tensor(np.zeros((3, 1, 8, 8), np.float32))).shape == (3, 10)
    first, later = model.stages[1][0], model.stages[1][1]
    assert first.downsample is not None and first.downsample[0].stride == (2, 2)
    assert model.stages[0][0].downsample is None and later.downsample is None
    with pytest.raises(ValueError):
        resnet.ResNet(resnet.ResNetConfig(widths=(8, 16), blocks=(1,)))


def test_resnet_reaches_95_percent(tmp_path):
    result = resnet.run(str(tmp_path), quick=True, verbose=False)
    assert result["test_accuracy"] >= 0.95  # about 0.96 in 3 epochs (0.98 in the full run)
    for key in ("checkpoint", "curves", "mistakes"):
        assert os.path.getsize(result[key]) > 0
    assert np.asarray(result["confusion_matrix"]).sum() == 359


# ---- U-Net ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["transpose", "nearest"])
def test_unet_keeps_the_image_shape(mode):
    manual_seed(0)
    model = unet.UNet(unet.UNetConfig(base=4, upsample=mode))
    assert model(as_tensor(np.zeros((2, 1, 8, 8), np.float32))).shape == (2, 1, 8, 8)


def test_unet_rejects_unknown_upsampling():
    with pytest.raises(ValueError, match="upsample"):
        unet.UNet(unet.UNetConfig(upsample="cubic"))


def test_psnr():
    assert unet.psnr(1.0) == pytest.approx(0.0)
    assert unet.psnr(0.01) == pytest.approx(20.0)


def test_unet_denoises(tmp_path):
    result = unet.run(str(tmp_path), quick=True, verbose=False)
    assert result["mse_noisy"] == pytest.approx(0.09, rel=0.1)  # sigma = 0.3
    assert result["mse_denoised"] < 0.8 * result["mse_noisy"]  # about 0.65x after 2 epochs
    assert result["psnr_denoised_db"] > result["psnr_noisy_db"] + 1.0
    assert os.path.getsize(result["denoised"]) > 0


# ---- normalisation -------------------------------------------------------------------------------
def test_statistics_masks_match_the_schemes():
    n, c = 4, 8
    sizes = {name: int(normalization.statistics_mask(name, n, c).sum()) for name in normalization.SCHEMES}
    assert sizes == {"none": 0, "batch": n, "ghost batch": 2, "layer": c, "group": c // 4, "instance": 1}


def test_layer_scheme_normalises_each_sample_over_c_h_w():
    manual_seed(0)
    layer = normalization.SCHEMES["layer"](3, 4)
    x = np.random.default_rng(0).normal(2.0, 5.0, (2, 3, 4, 4)).astype(np.float32)
    y = layer(as_tensor(x)).numpy().reshape(2, -1)
    np.testing.assert_allclose(y.mean(1), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(1), 1.0, atol=1e-3)


def test_every_normalisation_scheme_learns(tmp_path):
    result = normalization.run(str(tmp_path), quick=True, verbose=False)
    schemes = set(normalization.SCHEMES)
    assert set(result["curves"]) == set(result["test_accuracy"]) == schemes
    for name, curve in result["curves"].items():
        assert len(curve["val_acc"]) == len(curve["loss"]) == 2
        assert curve["loss"][-1] < curve["loss"][0], name  # the training loss goes down
        assert result["test_accuracy"][name] > 0.3, name  # chance is 0.1; 'none' is slowest
    normalised = [a for k, a in result["test_accuracy"].items() if k != "none"]
    assert np.mean(normalised) > 0.7  # with a norm layer it trains much faster
    assert os.path.getsize(result["figure"]) > 0


def test_normalisation_rejects_unknown_scheme(tmp_path):
    with pytest.raises(ValueError, match="unknown schemes"):
        normalization.run(str(tmp_path), quick=True, schemes=("weight",))


# ---- fine-tuning and LoRA ------------------------------------------------------------------------
def test_tasks_are_disjoint_and_relabelled():
    tasks = lora.split_tasks()
    for task in tasks.values():
        for split in ("train", "val", "test"):
            assert set(np.unique(task[f"y_{split}"])) == set(range(5))
    assert len(tasks["A"]["X_test"]) + len(tasks["B"]["X_test"]) == 359


def test_adapt_freezes_the_right_parameters():
    manual_seed(0)
    base = lora.DigitsMLP((16, 8))
    head = lora.adapt("head only", base, (16, 8), r=2, alpha=4)
    assert nn.count_parameters(head) == (8 * 5 + 5, nn.count_parameters(base)[1])
    adapted = lora.adapt("LoRA", base, (16, 8), r=2, alpha=4)
    assert nn.count_parameters(adapted)[0] == 2 * (64 + 16) + 2 * (16 + 8) + 2 * (8 + 5)
    x = as_tensor(np.random.default_rng(0).random((3, 64), dtype=np.float32))
    np.testing.assert_allclose(adapted(x).numpy(), base(x).numpy(), atol=1e-6)  # B starts at zero
    with pytest.raises(ValueError):
        lora.adapt("prefix tuning", base, (16, 8), r=2, alpha=4)


def test_lora_adapts_with_few_parameters_and_merges_exactly(tmp_path):
    result = lora.run(str(tmp_path), quick=True, verbose=False)
    methods = result["methods"]
    assert result["pretrained_task_A_accuracy"] > 0.9
    assert result["pretrained_task_B_accuracy"] < 0.5  # the new task is new
    full, head, low_rank = methods["full fine-tuning"], methods["head only"], methods["LoRA"]
    assert low_rank["trainable"] < 0.1 * full["total"]  # 3,348 of 50,181
    assert head["trainable"] < low_rank["trainable"] < full["trainable"] == full["total"]
    assert low_rank["total"] == full["total"] + low_rank["trainable"]  # frozen base + adapters
    for name in ("full fine-tuning", "LoRA"):
        assert methods[name]["accuracy"] > 0.8, name  # chance is 0.2; both about 0.93
    assert head["accuracy"] > 0.4  # frozen features transfer only partly
    assert result["merge_max_abs_diff"] < 1e-4
    assert result["merged_accuracy"] == pytest.approx(low_rank["accuracy"], abs=0.01)
    assert os.path.getsize(result["figure"]) > 0
