"""Per-operator CPU times of PyTorch (torch.profiler) for the anchor convnet and ResNet-20, training
(forward + backward + SGD step, batch 128) and inference (batch 256), the baseline side of the
per-layer table in bench/README.md. Uses the models of ../shared/anchors/torch_fashion.py.
Usage: /usr/bin/python3 bench/torch_layers.py --model resnet20 --threads 1 --steps 10"""
import argparse, importlib.util, os, sys, time
import torch, torch.nn.functional as F
from torch.profiler import profile, ProfilerActivity

def load_anchor(path):
    spec = importlib.util.spec_from_file_location("torch_fashion", path)
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod); return mod

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="convnet"); ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10); ap.add_argument("--rows", type=int, default=25)
    ap.add_argument("--by-shape", action="store_true", help="convolution times per input shape")
    ap.add_argument("--anchor", default=os.path.join(os.path.dirname(__file__), "../../shared/anchors/torch_fashion.py"))
    a = ap.parse_args()
    if not os.path.exists(a.anchor): a.anchor = "/work/shared/anchors/torch_fashion.py"
    tf = load_anchor(a.anchor)
    torch.set_num_threads(a.threads); torch.manual_seed(0)
    m = tf.ConvNet() if a.model == "convnet" else tf.ResNet20()
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    x = torch.rand(128, 1, 28, 28); y = torch.randint(0, 10, (128,))
    def step():
        opt.zero_grad(); loss = F.cross_entropy(m(x), y); loss.backward(); opt.step()
    m.train()
    for _ in range(3): step()
    report("train", a, step, "step")
    m.eval(); xi = torch.rand(256, 1, 28, 28)
    with torch.no_grad():
        for _ in range(2): m(xi)
        report("infer", a, lambda: m(xi), "batch")

def report(kind, a, call, unit):
    """Profiles a.steps calls. The profiler clocks wall time, which a loaded machine inflates; the
    process CPU time of the same calls (one thread: the work itself) is printed beside it, and
    every operator's time is also given scaled to it ("cpu ms")."""
    cpu = time.process_time(); wall = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=a.by_shape) as p:
        for _ in range(a.steps): call()
    cpu = (time.process_time() - cpu) * 1e3 / a.steps; wall = (time.perf_counter() - wall) * 1e3 / a.steps
    events = p.key_averages()
    total = sum(e.self_cpu_time_total for e in events) / 1e3 / a.steps
    scale = cpu / a.threads / total if a.threads == 1 else 1.0
    print(f"== {kind} {a.model}, {a.threads} thread(s), per {unit}: wall {wall:.1f} ms, process CPU {cpu:.1f} ms")
    print(f"{'operator':48s} {'ms':>9s} {'cpu ms':>9s}")
    for e in sorted(events, key=lambda e: -e.self_cpu_time_total)[:a.rows]:
        t = e.self_cpu_time_total / 1e3 / a.steps
        print(f"{e.key:48s} {t:9.3f} {t * scale:9.3f}  calls/{unit} {e.count / a.steps:5.1f}")
    print(f"{'total (self times)':48s} {total:9.3f} {total * scale:9.3f}")
    if a.by_shape:
        print(f"-- convolutions by input shapes (forward: mkldnn_convolution, backward: convolution_backward)")
        for e in sorted(p.key_averages(group_by_input_shape=True), key=lambda e: -e.self_cpu_time_total):
            if e.key in ("aten::mkldnn_convolution", "aten::convolution_backward"):
                t = e.self_cpu_time_total / 1e3 / a.steps
                print(f"{e.key:28s} {str(e.input_shapes[:2]):60s} {t:9.3f} {t * scale:9.3f}  calls/{unit} {e.count / a.steps:5.1f}")

if __name__ == "__main__":
    main()
