#!/usr/bin/env python3
"""Writes the small data files the SQL script tests read (run from this directory).

tiny-*: 3 classes of 1x8x8 uint8 images that a small network separates in a few epochs:
class 0 lights the top-left quadrant, class 1 the bottom-right, class 2 the centre, each over
deterministic noise (a linear congruential generator, so the files never change).
broken-*: files each wrong in one way, for the read_idx error tests.
"""
import gzip
import struct

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
SIDE = 8
CLASSES = 3


class Lcg:
    """Numerical Recipes' 32-bit LCG: reproducible on every platform."""

    def __init__(self, seed):
        self.state = seed

    def next_byte(self, limit):
        self.state = (1664525 * self.state + 1013904223) % (1 << 32)
        return (self.state >> 24) % limit


def image(label, rng):
    pixels = [rng.next_byte(60) for _ in range(SIDE * SIDE)]
    for y in range(SIDE):
        for x in range(SIDE):
            lit = {
                0: y < 4 and x < 4,
                1: y >= 4 and x >= 4,
                2: 2 <= y < 6 and 2 <= x < 6,
            }[label]
            if lit:
                pixels[y * SIDE + x] = 180 + rng.next_byte(76)
    return bytes(pixels)


def images_file(images):
    return struct.pack(">IIII", IMAGES_MAGIC, len(images), SIDE, SIDE) + b"".join(images)


def labels_file(labels):
    return struct.pack(">II", LABELS_MAGIC, len(labels)) + bytes(labels)


def dataset(count, seed):
    rng = Lcg(seed)
    labels = [i % CLASSES for i in range(count)]
    return [image(l, rng) for l in labels], labels


def write(name, data):
    with open(name, "wb") as f:
        f.write(data)


def main():
    train_images, train_labels = dataset(60, 1)
    test_images, test_labels = dataset(30, 2)
    write("tiny-train-images-idx3-ubyte", images_file(train_images))
    write("tiny-train-labels-idx1-ubyte", labels_file(train_labels))
    write("tiny-test-images-idx3-ubyte", images_file(test_images))
    write("tiny-test-labels-idx1-ubyte", labels_file(test_labels))
    # mtime=0 keeps the gzip bytes stable across runs.
    write("tiny-test-images-idx3-ubyte.gz", gzip.compress(images_file(test_images), mtime=0))
    write("tiny-test-labels-idx1-ubyte.gz", gzip.compress(labels_file(test_labels), mtime=0))

    full = images_file(test_images)
    write("broken-truncated-images-idx3-ubyte", full[: len(full) - 10])
    write("broken-truncated-header-idx3-ubyte", full[:10])
    write("broken-too-short-idx3-ubyte", full[:2])
    write("broken-trailing-images-idx3-ubyte", full + b"\0\0\0")
    write("broken-truncated-images-idx3-ubyte.gz", gzip.compress(full, mtime=0)[:200])
    write("broken-not-gzip-idx3-ubyte.gz", b"\x1f\x8b" + b"this is not a gzip stream" * 4)
    write("broken-zero-dims-idx3-ubyte", struct.pack(">IIII", IMAGES_MAGIC, 0, 0, 8))
    write("broken-labels-29-idx1-ubyte", labels_file(test_labels[:29]))
    write("broken-not-idx.txt", b"id,label\n1,2\n3,4\n")


if __name__ == "__main__":
    main()
