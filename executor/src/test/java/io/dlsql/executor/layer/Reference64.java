package io.dlsql.executor.layer;

/**
 * Double-precision reference implementations of every operator, forward and backward, written
 * from the definitions with plain index arithmetic and no code shared with the kernels. Arrays
 * are flat, row-major; shapes are passed explicitly.
 */
final class Reference64 {
  private Reference64() {}

  /** Convolution hyper-parameters, as the test chooses them. */
  record Conv(int n, int c, int h, int w, int oc, int kh, int kw, int sh, int sw, int pt, int pl,
      int ph2, int pw2, int dh, int dw, int groups) {
    int oh() {
      return (h + pt + ph2 - dh * (kh - 1) - 1) / sh + 1;
    }

    int ow() {
      return (w + pl + pw2 - dw * (kw - 1) - 1) / sw + 1;
    }

    int cg() {
      return c / groups;
    }

    int ocg() {
      return oc / groups;
    }
  }

  /** y[n][o][i][j] = b[o] + sum over c in o's group, u, v of w[o][c'][u][v] * x[n][c][i*sh - pt + u*dh][j*sw - pl + v*dw]. */
  static double[] conv(Conv p, double[] x, double[] wt, double[] b) {
    double[] y = new double[p.n() * p.oc() * p.oh() * p.ow()];
    for (int n = 0; n < p.n(); n++) {
      for (int o = 0; o < p.oc(); o++) {
        int group = o / p.ocg();
        for (int i = 0; i < p.oh(); i++) {
          for (int j = 0; j < p.ow(); j++) {
            double s = b == null ? 0 : b[o];
            for (int cc = 0; cc < p.cg(); cc++) {
              int c = group * p.cg() + cc;
              for (int u = 0; u < p.kh(); u++) {
                for (int v = 0; v < p.kw(); v++) {
                  int yy = i * p.sh() - p.pt() + u * p.dh();
                  int xx = j * p.sw() - p.pl() + v * p.dw();
                  if (yy >= 0 && yy < p.h() && xx >= 0 && xx < p.w()) {
                    s += wt[((o * p.cg() + cc) * p.kh() + u) * p.kw() + v]
                        * x[((n * p.c() + c) * p.h() + yy) * p.w() + xx];
                  }
                }
              }
            }
            y[((n * p.oc() + o) * p.oh() + i) * p.ow() + j] = s;
          }
        }
      }
    }
    return y;
  }

  /** Gradients of {@link #conv} given dy: {dx, dw, db}. */
  static double[][] convBackward(Conv p, double[] x, double[] wt, double[] dy) {
    double[] dx = new double[x.length];
    double[] dw = new double[wt.length];
    double[] db = new double[p.oc()];
    for (int n = 0; n < p.n(); n++) {
      for (int o = 0; o < p.oc(); o++) {
        int group = o / p.ocg();
        for (int i = 0; i < p.oh(); i++) {
          for (int j = 0; j < p.ow(); j++) {
            double g = dy[((n * p.oc() + o) * p.oh() + i) * p.ow() + j];
            db[o] += g;
            for (int cc = 0; cc < p.cg(); cc++) {
              int c = group * p.cg() + cc;
              for (int u = 0; u < p.kh(); u++) {
                for (int v = 0; v < p.kw(); v++) {
                  int yy = i * p.sh() - p.pt() + u * p.dh();
                  int xx = j * p.sw() - p.pl() + v * p.dw();
                  if (yy >= 0 && yy < p.h() && xx >= 0 && xx < p.w()) {
                    int wi = ((o * p.cg() + cc) * p.kh() + u) * p.kw() + v;
                    int xi = ((n * p.c() + c) * p.h() + yy) * p.w() + xx;
                    dw[wi] += g * x[xi];
                    dx[xi] += g * wt[wi];
                  }
                }
              }
            }
          }
        }
      }
    }
    return new double[][] {dx, dw, db};
  }

  /** Pooling: planes of h x w, window k, stride s, padding p; max or average (padding counted). */
  record Pool(int planes, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, boolean max) {
    int oh() {
      return (h + 2 * ph - kh) / sh + 1;
    }

    int ow() {
      return (w + 2 * pw - kw) / sw + 1;
    }
  }

  static double[] pool(Pool p, double[] x) {
    double[] y = new double[p.planes() * p.oh() * p.ow()];
    for (int q = 0; q < p.planes(); q++) {
      for (int i = 0; i < p.oh(); i++) {
        for (int j = 0; j < p.ow(); j++) {
          double best = Double.NEGATIVE_INFINITY;
          double sum = 0;
          for (int u = 0; u < p.kh(); u++) {
            for (int v = 0; v < p.kw(); v++) {
              int yy = i * p.sh() - p.ph() + u;
              int xx = j * p.sw() - p.pw() + v;
              if (yy >= 0 && yy < p.h() && xx >= 0 && xx < p.w()) {
                double val = x[(q * p.h() + yy) * p.w() + xx];
                best = Math.max(best, val);
                sum += val;
              }
            }
          }
          y[(q * p.oh() + i) * p.ow() + j] = p.max() ? best : sum / (p.kh() * p.kw());
        }
      }
    }
    return y;
  }

  /** Max: the gradient goes to the first maximum of each window; average: spread evenly. */
  static double[] poolBackward(Pool p, double[] x, double[] dy) {
    double[] dx = new double[x.length];
    for (int q = 0; q < p.planes(); q++) {
      for (int i = 0; i < p.oh(); i++) {
        for (int j = 0; j < p.ow(); j++) {
          double g = dy[(q * p.oh() + i) * p.ow() + j];
          int arg = -1;
          double best = Double.NEGATIVE_INFINITY;
          for (int u = 0; u < p.kh(); u++) {
            for (int v = 0; v < p.kw(); v++) {
              int yy = i * p.sh() - p.ph() + u;
              int xx = j * p.sw() - p.pw() + v;
              if (yy >= 0 && yy < p.h() && xx >= 0 && xx < p.w()) {
                int xi = (q * p.h() + yy) * p.w() + xx;
                if (p.max()) {
                  if (x[xi] > best) {
                    best = x[xi];
                    arg = xi;
                  }
                } else {
                  dx[xi] += g / (p.kh() * p.kw());
                }
              }
            }
          }
          if (p.max()) {
            dx[arg] += g;
          }
        }
      }
    }
    return dx;
  }

  /** y (n, u) = x (n, f) W^T (f, u) + b. */
  static double[] dense(int n, int f, int u, double[] x, double[] wt, double[] b) {
    double[] y = new double[n * u];
    for (int r = 0; r < n; r++) {
      for (int o = 0; o < u; o++) {
        double s = b == null ? 0 : b[o];
        for (int i = 0; i < f; i++) {
          s += x[r * f + i] * wt[o * f + i];
        }
        y[r * u + o] = s;
      }
    }
    return y;
  }

  static double[][] denseBackward(int n, int f, int u, double[] x, double[] wt, double[] dy) {
    double[] dx = new double[n * f];
    double[] dw = new double[u * f];
    double[] db = new double[u];
    for (int r = 0; r < n; r++) {
      for (int o = 0; o < u; o++) {
        double g = dy[r * u + o];
        db[o] += g;
        for (int i = 0; i < f; i++) {
          dx[r * f + i] += g * wt[o * f + i];
          dw[o * f + i] += g * x[r * f + i];
        }
      }
    }
    return new double[][] {dx, dw, db};
  }

  /** Activation by name: relu, leaky (slope), sigmoid, tanh. */
  static double activation(String kind, double slope, double v) {
    return switch (kind) {
      case "relu" -> Math.max(v, 0);
      case "leaky" -> v > 0 ? v : slope * v;
      case "sigmoid" -> 1 / (1 + Math.exp(-v));
      case "tanh" -> Math.tanh(v);
      default -> throw new IllegalArgumentException(kind);
    };
  }

  static double activationDerivative(String kind, double slope, double v) {
    return switch (kind) {
      case "relu" -> v > 0 ? 1 : 0;
      case "leaky" -> v > 0 ? 1 : slope;
      case "sigmoid" -> {
        double s = 1 / (1 + Math.exp(-v));
        yield s * (1 - s);
      }
      case "tanh" -> 1 - Math.tanh(v) * Math.tanh(v);
      default -> throw new IllegalArgumentException(kind);
    };
  }

  /** Batch norm in training mode over (n, c, pixels): normalise with the batch mean and biased variance. */
  static double[] batchNorm(int n, int c, int pixels, double[] x, double[] gamma, double[] beta, double eps) {
    double[] y = new double[x.length];
    for (int ch = 0; ch < c; ch++) {
      double[] stats = stats(n, c, pixels, x, ch);
      double inv = 1 / Math.sqrt(stats[1] + eps);
      for (int s = 0; s < n; s++) {
        for (int i = 0; i < pixels; i++) {
          int at = (s * c + ch) * pixels + i;
          y[at] = gamma[ch] * (x[at] - stats[0]) * inv + beta[ch];
        }
      }
    }
    return y;
  }

  /** {mean, biased variance} of channel ch. */
  static double[] stats(int n, int c, int pixels, double[] x, int ch) {
    double mean = 0;
    for (int s = 0; s < n; s++) {
      for (int i = 0; i < pixels; i++) {
        mean += x[(s * c + ch) * pixels + i];
      }
    }
    mean /= n * pixels;
    double var = 0;
    for (int s = 0; s < n; s++) {
      for (int i = 0; i < pixels; i++) {
        double d = x[(s * c + ch) * pixels + i] - mean;
        var += d * d;
      }
    }
    return new double[] {mean, var / (n * pixels)};
  }

  /**
   * Gradients of training-mode batch norm, derived through the statistics: with m = n * pixels,
   * dx_i = gamma/sigma (dy_i - mean(dy) - xhat_i mean(dy * xhat)). Returns {dx, dgamma, dbeta}.
   */
  static double[][] batchNormBackward(int n, int c, int pixels, double[] x, double[] gamma, double eps, double[] dy) {
    double[] dx = new double[x.length];
    double[] dgamma = new double[c];
    double[] dbeta = new double[c];
    int m = n * pixels;
    for (int ch = 0; ch < c; ch++) {
      double[] stats = stats(n, c, pixels, x, ch);
      double sigma = Math.sqrt(stats[1] + eps);
      double meanDy = 0;
      double meanDyXhat = 0;
      for (int s = 0; s < n; s++) {
        for (int i = 0; i < pixels; i++) {
          int at = (s * c + ch) * pixels + i;
          double xhat = (x[at] - stats[0]) / sigma;
          dbeta[ch] += dy[at];
          dgamma[ch] += dy[at] * xhat;
        }
      }
      meanDy = dbeta[ch] / m;
      meanDyXhat = dgamma[ch] / m;
      for (int s = 0; s < n; s++) {
        for (int i = 0; i < pixels; i++) {
          int at = (s * c + ch) * pixels + i;
          double xhat = (x[at] - stats[0]) / sigma;
          dx[at] = gamma[ch] / sigma * (dy[at] - meanDy - xhat * meanDyXhat);
        }
      }
    }
    return new double[][] {dx, dgamma, dbeta};
  }

  /** Mean softmax cross-entropy with smoothing s over k classes. */
  static double crossEntropy(int n, int k, double[] z, int[] labels, double s) {
    double total = 0;
    for (int r = 0; r < n; r++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < k; j++) {
        max = Math.max(max, z[r * k + j]);
      }
      double sum = 0;
      for (int j = 0; j < k; j++) {
        sum += Math.exp(z[r * k + j] - max);
      }
      for (int j = 0; j < k; j++) {
        double q = (j == labels[r] ? 1 - s : 0) + s / k;
        total -= q * (z[r * k + j] - max - Math.log(sum));
      }
    }
    return total / n;
  }

  static double[] crossEntropyBackward(int n, int k, double[] z, int[] labels, double s) {
    double[] g = new double[n * k];
    for (int r = 0; r < n; r++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < k; j++) {
        max = Math.max(max, z[r * k + j]);
      }
      double sum = 0;
      for (int j = 0; j < k; j++) {
        sum += Math.exp(z[r * k + j] - max);
      }
      for (int j = 0; j < k; j++) {
        double q = (j == labels[r] ? 1 - s : 0) + s / k;
        g[r * k + j] = (Math.exp(z[r * k + j] - max) / sum - q) / n;
      }
    }
    return g;
  }
}
