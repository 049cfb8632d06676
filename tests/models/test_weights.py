import pickle

import pytest
import torch

from srcnn_plugin.models.registry import bundled_weights_path, list_models, model_info
from srcnn_plugin.models.srcnn import SRCNN, SRCNNConfig
from srcnn_plugin.models.weights import WeightsError, load_weights, save_weights, sha256_of


def test_roundtrip(tmp_path):
    net = SRCNN(SRCNNConfig(f2=3))
    path = tmp_path / "m.pt"
    digest = save_weights(net, path, scales=(2, 3), metadata={"note": "x"})
    loaded = load_weights(path, expected_sha256=digest)
    assert loaded.config == net.config
    assert loaded.scales == (2.0, 3.0)
    assert loaded.metadata == {"note": "x"}
    for a, b in zip(net.state_dict().values(), loaded.model.state_dict().values()):
        torch.testing.assert_close(a, b)
    assert not loaded.model.training


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load_weights(tmp_path / "nope.pt")


def test_truncated_file_names_it(tmp_path):
    path = tmp_path / "cut.pt"
    save_weights(SRCNN(), path, scales=(2,))
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(WeightsError, match="cut.pt"):
        load_weights(path)


def test_checksum_mismatch(tmp_path):
    path = tmp_path / "m.pt"
    save_weights(SRCNN(), path, scales=(2,))
    with pytest.raises(WeightsError, match="checksum"):
        load_weights(path, expected_sha256="0" * 64)


def test_not_a_weights_file(tmp_path):
    path = tmp_path / "plain.pt"
    torch.save({"a": torch.zeros(1)}, path)
    with pytest.raises(WeightsError, match="not a srcnn-plugin weights file"):
        load_weights(path)


class _Evil:
    def __reduce__(self):
        return (exec, ("raise SystemExit('code ran')",))


def test_pickled_code_is_never_executed(tmp_path):
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"format": "srcnn-plugin/weights", "x": _Evil()}, f)
    with pytest.raises(WeightsError):
        load_weights(path)


def test_wrong_architecture_tensor_shapes(tmp_path):
    path = tmp_path / "m.pt"
    save_weights(SRCNN(SRCNNConfig(f2=3)), path, scales=(2,))
    payload = torch.load(path, weights_only=True)
    payload["config"]["f2"] = 5
    torch.save(payload, path)
    with pytest.raises(WeightsError, match="does not match"):
        load_weights(path)


@pytest.mark.parametrize("name", list_models())
def test_bundled_models_load_and_verify(name):
    info = model_info(name)
    assert sha256_of(bundled_weights_path(name).read_bytes()) == info["sha256"]
    loaded = load_weights(name)
    assert loaded.config.name == info["architecture"]
    assert list(loaded.scales) == info["scales"]


def test_tampered_bundled_file_is_refused(monkeypatch, tmp_path):
    name = list_models()[0]
    bad = tmp_path / "bad.pt"
    data = bytearray(bundled_weights_path(name).read_bytes())
    data[-100] ^= 0xFF
    bad.write_bytes(bytes(data))
    monkeypatch.setattr("srcnn_plugin.models._bundled.bundled_weights_path", lambda n: bad)
    with pytest.raises(WeightsError, match="bad.pt.*checksum|checksum"):
        load_weights(name)
