"""Writes the PyTorch fixtures PyTorchFixtureTest compares the executor against.

For each model (the anchor convnet with dropout off, and ResNet-20, both from
/work/shared/anchors/torch_fashion.py) in train mode, on a batch of 8 Fashion-MNIST images:
initial weights (generated from seeds by SplitMix64, which the Java test reproduces, so they need
not be stored), logits, loss, every parameter gradient (in full, or an evenly strided sample of at
most 4096 values plus the full L2 norm for large ones), and the losses of 50 SGD steps (lr 0.05,
momentum 0.9 for the convnet; lr 0.0005 for ResNet-20) cycling over 10 fixed batches.
ResNet-20 with batchnorm on batches of 8 is so sensitive at the anchor's lr 0.05 that PyTorch's own
float32 run leaves its float64 run by more than 2% within 10 steps (and by 30% at lr 0.01), so a 2%
check there would test rounding luck; at lr 0.0005 the two PyTorch runs stay within 1% for 50 steps
while the loss still falls. PyTorch computes in float64 so the fixture is a
reference, not another float32 approximation.

Run with Debian's python3-torch:  /usr/bin/python3 executor/src/test/python/make_fixtures.py
Output: executor/src/test/resources/fixtures/<model>.index (text) and <model>.bin (little-endian).
"""
import gzip, os, struct, sys
import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "resources", "fixtures")
sys.path.insert(0, "/work/shared/anchors")
import torch_fashion  # noqa: E402  (the anchor models, unchanged)

DATA = "/usr/share/datasets/fashion-mnist/"
BATCH = 8
STEP_BATCHES = 10
STEPS = 50
LR = {"convnet": 0.05, "resnet20": 0.0005}
MOMENTUM = 0.9
MAX_SAMPLE = 4096
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
MASK = (1 << 64) - 1


def splitmix_floats(seed, n):
    """n floats in [0, 1) with 24 random bits, as io.dlsql.executor.random.Rng(seed).nextFloat()."""
    with np.errstate(over="ignore"):
        z = (np.uint64(seed & MASK) + np.uint64(GOLDEN_GAMMA) * np.arange(1, n + 1, dtype=np.uint64))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) * 2.0 ** -24


def uniform(seed, shape, lo, hi):
    """float32(lo + (hi - lo) * u), computed in double exactly as the Java test does."""
    u = splitmix_floats(seed, int(np.prod(shape)))
    return (lo + (hi - lo) * u).astype(np.float32).reshape(shape)


def idx(path):
    with gzip.open(path) as f:
        nd = struct.unpack(">I", f.read(4))[0] & 0xFF
        dims = struct.unpack(">" + "I" * nd, f.read(4 * nd))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def convnet_names(name):
    return {"c1": "conv1", "c2": "conv2", "f1": "fc1", "f2": "fc2"}[name.split(".")[0]] + "." + name.split(".", 1)[1]


def resnet_names(name):
    parts = name.split(".")
    if parts[0] == "c":
        return "conv1." + parts[1]
    if parts[0] == "bn":
        return "bn1." + parts[1]
    if parts[0] == "fc":
        return name
    i = int(parts[1])
    block = "layer%d.%d" % (i // 3 + 1, i % 3)
    local = {"a": "conv1", "ba": "bn1", "b": "conv2", "bb": "bn2"}
    if parts[2] == "sc":
        return block + ".shortcut." + parts[3] + "." + parts[4]
    return block + "." + local[parts[2]] + "." + parts[3]


class Writer:
    def __init__(self, model):
        self.index = open(os.path.join(OUT, model + ".index"), "w")
        self.bin = open(os.path.join(OUT, model + ".bin"), "wb")

    def line(self, *fields):
        self.index.write(" ".join(str(f) for f in fields) + "\n")

    def data(self, name, array):
        array = np.ascontiguousarray(array)
        dtype = {np.float32: "f32", np.int32: "i32", np.uint8: "u8"}[array.dtype.type]
        self.line("data", name, dtype, ",".join(str(d) for d in array.shape) or "1")
        self.bin.write(array.astype(array.dtype.newbyteorder("<")).tobytes())

    def gradient(self, name, grad):
        flat = grad.detach().numpy().astype(np.float64).ravel()
        shape = ",".join(str(d) for d in grad.shape)
        if flat.size <= MAX_SAMPLE:
            self.line("data", name, "f32", shape)
            self.bin.write(flat.astype("<f4").tobytes())
            return
        stride = -(-flat.size // MAX_SAMPLE)
        sample = flat[::stride]
        self.line("sample", name, "f32", shape, stride, sample.size, repr(float(np.linalg.norm(flat))))
        self.bin.write(sample.astype("<f4").tobytes())

    def close(self):
        self.index.close()
        self.bin.close()


def make(model_name, model, rename):
    torch.manual_seed(0)
    model = model.double()
    model.train()
    w = Writer(model_name)
    w.line("meta", "lr", LR[model_name])
    w.line("meta", "momentum", MOMENTUM)
    state = {}
    for seed, (name, tensor) in enumerate(model.state_dict().items()):
        if name.endswith("num_batches_tracked"):
            continue
        ours = rename(name)
        shape = tuple(tensor.shape)
        if name.endswith("running_mean") or name.endswith("running_var"):
            lo = hi = 0.0 if name.endswith("mean") else 1.0
        else:
            if tensor.dim() > 1:  # conv and dense weights: PyTorch's default bound 1/sqrt(fan_in)
                fan_in = int(np.prod(shape[1:]))
                lo, hi = -1 / np.sqrt(fan_in), 1 / np.sqrt(fan_in)
            elif name.endswith("weight"):  # batchnorm scale
                lo, hi = 0.5, 1.5
            else:  # conv/dense biases and batchnorm shifts
                lo, hi = -0.2, 0.2
        value = uniform(1000 + seed, shape, lo, hi) if lo != hi else np.full(shape, lo, np.float32)
        w.line("uniform", ours, "f32", ",".join(str(d) for d in shape), 1000 + seed, repr(lo), repr(hi))
        state[name] = torch.from_numpy(value.astype(np.float64))
    model.load_state_dict(state, strict=False)

    images = idx(DATA + "train-images-idx3-ubyte.gz")[: BATCH * STEP_BATCHES]
    labels = idx(DATA + "train-labels-idx1-ubyte.gz")[: BATCH * STEP_BATCHES].astype(np.int32)
    w.data("train.images", images.reshape(-1, 1, 28, 28))
    w.data("train.labels", labels)

    x = torch.from_numpy(images[:BATCH].astype(np.float64) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels[:BATCH].astype(np.int64))
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    w.data("logits", logits.detach().numpy().astype(np.float32))
    w.data("loss", np.array([loss.item()], np.float32))
    for name, p in model.named_parameters():
        w.gradient("grad." + rename(name), p.grad)
    for name, t in model.state_dict().items():
        if name.endswith("running_mean") or name.endswith("running_var"):
            w.data("after." + rename(name), t.numpy().astype(np.float32))

    # 50 SGD steps from the same initial weights, cycling over the fixed batches.
    model.load_state_dict(state, strict=False)
    for name, t in model.state_dict().items():
        if name.endswith("running_mean"):
            t.zero_()
        elif name.endswith("running_var"):
            t.fill_(1)
    opt = torch.optim.SGD(model.parameters(), lr=LR[model_name], momentum=MOMENTUM)
    losses = []
    for step in range(STEPS):
        b = step % STEP_BATCHES
        xb = torch.from_numpy(images[b * BATCH:(b + 1) * BATCH].astype(np.float64) / 255.0).unsqueeze(1)
        yb = torch.from_numpy(labels[b * BATCH:(b + 1) * BATCH].astype(np.int64))
        opt.zero_grad()
        l = F.cross_entropy(model(xb), yb)
        l.backward()
        opt.step()
        losses.append(l.item())
    w.data("sgd.losses", np.array(losses, np.float32))
    w.close()
    print(model_name, "loss", loss.item(), "losses", losses[0], "->", losses[-1])


def main():
    os.makedirs(OUT, exist_ok=True)
    convnet = torch_fashion.ConvNet()
    convnet.dp.p = 0.0  # dropout masks cannot be matched across frameworks
    make("convnet", convnet, convnet_names)
    make("resnet20", torch_fashion.ResNet20(), resnet_names)


if __name__ == "__main__":
    main()
