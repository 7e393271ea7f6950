package io.losswatch.core.problem;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A one-hidden-layer perceptron on digits (1797 × 64, pixels ÷ 16): 64 → hidden (tanh) → 10, mean softmax
 * cross-entropy over the current sample. Parameters, in order: W1 (64×hidden, W1[i*hidden + j]), b1 (hidden),
 * W2 (hidden×10, W2[j*10 + k]), b2 (10).
 *
 * <p>Options: {@code hidden} (integer in [1, 4096], default 32); {@code seed} (integer ≥ 0, default 0): the
 * starting weights come from {@code new SplittableRandom(seed)}, drawn in layout order, W1 uniform in ±1/√64 and
 * W2 in ±1/√hidden (torch's nn.Linear default), biases 0; {@code batch_size} (integer in [1, 1000000], absent =
 * full batch; past the 1797 rows it is the full batch).
 *
 * <p>Minibatches: the rows are shuffled by a second generator, {@code new SplittableRandom(seed ^
 * 0x9E3779B97F4A7C15L)}. Each epoch resets the order to 0..n−1 and applies Fisher–Yates (for i from n−1 down to
 * 1, swap i with {@code nextInt(i + 1)}), then cuts it into consecutive batches of batch_size (the last may be
 * smaller, as torch's DataLoader with drop_last=False). Epoch 0 is shuffled at construction; the first
 * {@link #nextBatch()} selects its batch 0, as does {@link #evaluate} before any nextBatch call.
 *
 * <p>Speed: rows are processed one at a time with per-row buffers (no allocation, whatever the batch), the
 * input layer skips the zero pixels (about half), and tanh goes through {@link Math#exp}. Skipping zeros would
 * hide a non-finite weight of an unlit pixel, so any non-finite W1 entry makes the loss and gradient all NaN.
 */
public final class Mlp implements Problem {
  static final int IN = 64;
  static final int OUT = 10;
  /** The shuffling generator's seed is {@code seed ^ SHUFFLE_SALT}. */
  static final long SHUFFLE_SALT = 0x9E3779B97F4A7C15L;
  /** Hidden units at most: 4096 make 307,210 parameters, about 2.4 MB per copy the trainer keeps. */
  public static final int MAX_HIDDEN = 4096;
  /** Rows per batch at most; any number past the data's rows is the full batch. */
  public static final int MAX_BATCH = 1_000_000;
  /** The digits' rows and their mean count of nonzero pixels (of 64), for the cost estimate. */
  static final int ROWS = 1797;
  static final int MEAN_NONZERO = 33;

  /**
   * The pixels ÷ 16, also in compressed sparse rows (about half the pixels are 0): row r's nonzero pixels are
   * {@code IDX[k]} with values {@code VAL[k]} for k in [START[r], START[r + 1]).
   */
  private static final class Data {
    static final Dataset D = Dataset.load("digits").dividedBy(16);
    static final int[] START = new int[D.rows + 1];
    static final int[] IDX;
    static final double[] VAL;

    static {
      int nz = 0;
      for (double v : D.x) if (v != 0) nz++;
      IDX = new int[nz];
      VAL = new double[nz];
      int k = 0;
      for (int r = 0; r < D.rows; r++) {
        START[r] = k;
        for (int i = 0; i < IN; i++) {
          double v = D.x[r * IN + i];
          if (v != 0) {
            IDX[k] = i;
            VAL[k++] = v;
          }
        }
      }
      START[D.rows] = k;
    }
  }

  /**
   * @param hidden hidden units, at least 1
   * @param seed weight-initialisation seed, at least 0
   * @param batchSize rows per minibatch, or 0 for the full batch
   */
  public record Config(int hidden, int seed, int batchSize) implements Problem.Config {
    public Config {
      if (hidden < 1 || hidden > MAX_HIDDEN) {
        throw new IllegalArgumentException("hidden must be in [1, " + MAX_HIDDEN + "], got " + hidden);
      }
      if (seed < 0) throw new IllegalArgumentException("seed must be >= 0, got " + seed);
      if (batchSize < 0 || batchSize > MAX_BATCH) {
        throw new IllegalArgumentException("batchSize must be in [0, " + MAX_BATCH + "], got " + batchSize);
      }
    }

    @Override
    public String type() {
      return "mlp";
    }

    @Override
    public long parameters() {
      return dimension(hidden);
    }

    /**
     * Per row and hidden unit: the input layer forward and back over the lit pixels, the output layer's three
     * passes, a tanh; per row, the softmax; per step, the finiteness scan of W1 and the gradient's reset.
     */
    @Override
    public long evaluationCost() {
      long rows = batchSize == 0 ? ROWS : Math.min(batchSize, ROWS);
      long perRow = Math.addExact(Math.multiplyExact((long) hidden, 2L * MEAN_NONZERO + 3L * OUT + EXP), 2 * OUT * EXP);
      return Math.addExact(Math.multiplyExact(rows, perRow), Math.multiplyExact((long) IN + 1, hidden) + parameters());
    }

    @Override
    public Problem create() {
      return new Mlp(hidden, seed, batchSize);
    }
  }

  /** Reads {@code hidden}, {@code seed} and {@code batch_size}. */
  public static Config read(Options o) {
    int hidden = o.integer("hidden", 32, 1, MAX_HIDDEN);
    int seed = o.integer("seed", 0, 0);
    int batchSize = o.byDefault("full batch").integer("batch_size", 0, 1, MAX_BATCH);
    return new Config(hidden, seed, batchSize);
  }

  private final Dataset d = Data.D;
  private final int hidden;
  private final int b1;
  private final int w2;
  private final int b2;
  private final int dim;
  private final double[] init;

  /** Null for full batch; else the current epoch's row order. */
  private final int[] perm;
  private final int batchSize;
  private final SplitMix shuffler;
  private boolean started;
  private int start;
  private int end;

  private final double[] h;
  private final double[] dpre;
  private final double[] z = new double[OUT];
  /** The R-operator's (directional derivative's) counterparts of h, dpre and z, for the Hessian-vector product. */
  private final double[] rh;
  private final double[] rdpre;
  private final double[] rz = new double[OUT];

  /** @param batchSize rows per minibatch, or 0 for the full batch */
  public Mlp(int hidden, int seed, int batchSize) {
    if (hidden < 1 || hidden > MAX_HIDDEN || seed < 0 || batchSize < 0 || batchSize > MAX_BATCH) {
      throw new IllegalArgumentException("bad mlp settings: hidden " + hidden + ", seed " + seed
          + ", batch size " + batchSize);
    }
    this.hidden = hidden;
    // exact: an overflowing size must fail here, not allocate a wrong-sized or negative array
    dim = Math.toIntExact(dimension(hidden));
    b1 = Math.multiplyExact(IN, hidden);
    w2 = b1 + hidden;
    b2 = w2 + hidden * OUT;
    h = new double[hidden];
    dpre = new double[hidden];
    rh = new double[hidden];
    rdpre = new double[hidden];

    init = new double[dim];
    SplittableRandom rng = new SplittableRandom(seed);
    double bound1 = 1 / Math.sqrt(IN);
    for (int k = 0; k < b1; k++) init[k] = rng.nextDouble(-bound1, bound1);
    double bound2 = 1 / Math.sqrt(hidden);
    for (int k = w2; k < b2; k++) init[k] = rng.nextDouble(-bound2, bound2);

    int n = d.rows;
    if (batchSize == 0) {
      this.batchSize = n;
      perm = null;
      shuffler = null;
    } else {
      this.batchSize = batchSize;
      perm = new int[n];
      shuffler = new SplitMix(seed ^ SHUFFLE_SALT);
      shuffle();
    }
    start = 0;
    end = Math.min(this.batchSize, n);
  }

  @Override
  public int dimension() {
    return dim;
  }

  /** W1, b1, W2, b2: (64 + 1 + 10) · hidden + 10, in long. */
  static long dimension(int hidden) {
    return Math.addExact(Math.multiplyExact(IN + 1L + OUT, hidden), OUT);
  }

  @Override
  public double[] initialParams() {
    return init.clone();
  }

  /** The number of hidden units. */
  public int hidden() {
    return hidden;
  }

  /** Rows in the current sample. */
  public int currentBatchSize() {
    return end - start;
  }

  @Override
  public void nextBatch() {
    if (perm == null) return;
    if (!started) {
      started = true;
      return;
    }
    start = end;
    if (start >= d.rows) {
      shuffle();
      start = 0;
    }
    end = Math.min(start + batchSize, d.rows);
  }

  @Override
  public State state() {
    return perm == null ? new State() : new State().put("started", started).put("start", (long) start)
        .put("end", (long) end).put("order", perm).put("shuffler_seed", shuffler.seed);
  }

  @Override
  public void load(State s) {
    if (perm == null) return;
    started = s.bool("started");
    start = (int) s.integer("start");
    end = (int) s.integer("end");
    s.copy("order", perm);
    shuffler.seed = s.integer("shuffler_seed");
  }

  private void shuffle() {
    for (int i = 0; i < perm.length; i++) perm[i] = i;
    for (int i = perm.length - 1; i > 0; i--) {
      int j = shuffler.nextInt(i + 1);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
  }

  @Override
  public double evaluate(double[] x, double[] grad) {
    // The sparse products below skip 0 · W1 terms, so would hide a non-finite weight of an unlit pixel: a
    // non-finite W1 gives NaN throughout, as the dense product would.
    for (int k = 0; k < b1; k++) {
      if (!Double.isFinite(x[k])) {
        Arrays.fill(grad, 0, dim, Double.NaN);
        return Double.NaN;
      }
    }
    Arrays.fill(grad, 0, dim, 0.0);
    int[] idx = Data.IDX;
    double[] val = Data.VAL;
    double inv = 1.0 / (end - start);
    double sum = 0;
    for (int t = start; t < end; t++) {
      int r = perm == null ? t : perm[t];
      int label = forward(x, r);
      double m = max(z);
      double s = 0;
      for (int k = 0; k < OUT; k++) s += Math.exp(z[k] - m);
      double lse = m + Math.log(s);
      sum += lse - z[label];
      // z becomes dLoss/dlogits for this row
      for (int k = 0; k < OUT; k++) z[k] = (Math.exp(z[k] - lse) - (k == label ? 1 : 0)) * inv;
      for (int k = 0; k < OUT; k++) grad[b2 + k] += z[k];
      for (int j = 0; j < hidden; j++) {
        double hj = h[j];
        int o = w2 + j * OUT;
        double acc = 0;
        for (int k = 0; k < OUT; k++) {
          grad[o + k] += hj * z[k];
          acc += x[o + k] * z[k];
        }
        dpre[j] = acc * (1 - hj * hj);
      }
      for (int j = 0; j < hidden; j++) grad[b1 + j] += dpre[j];
      for (int k = Data.START[r], e = Data.START[r + 1]; k < e; k++) {
        double xi = val[k];
        int o = idx[k] * hidden;
        for (int j = 0; j < hidden; j++) grad[o + j] += xi * dpre[j];
      }
    }
    return sum * inv;
  }

  /**
   * Pearlmutter's R-operator (https://doi.org/10.1162/neco.1994.6.1.147): beside each row's forward pass, the
   * derivative of every quantity along v (Ra = v_b1 + V1ᵀx, Rh = (1 − h²)·Ra, Rz = v_b2 + V2ᵀh + W2ᵀRh), then the
   * backward pass differentiated along v (Rδz = (p⊙Rz − p·(p·Rz))/B, Rδh = V2δz + W2Rδz,
   * Rδa = (1 − h²)⊙Rδh − 2h⊙Rh⊙δh), summed into the gradient's places. As exact as the gradient.
   */
  @Override
  public void hessianVector(double[] x, double[] v, double[] hv) {
    for (int k = 0; k < b1; k++) {
      if (!Double.isFinite(x[k])) {   // as in evaluate: the sparse products would hide it
        Arrays.fill(hv, 0, dim, Double.NaN);
        return;
      }
    }
    Arrays.fill(hv, 0, dim, 0.0);
    int[] idx = Data.IDX;
    double[] val = Data.VAL;
    double inv = 1.0 / (end - start);
    for (int t = start; t < end; t++) {
      int r = perm == null ? t : perm[t];
      int label = forward(x, r);
      System.arraycopy(v, b1, rh, 0, hidden);
      for (int k = Data.START[r], e = Data.START[r + 1]; k < e; k++) {
        double xi = val[k];
        int o = idx[k] * hidden;
        for (int j = 0; j < hidden; j++) rh[j] += xi * v[o + j];
      }
      for (int j = 0; j < hidden; j++) rh[j] *= 1 - h[j] * h[j];
      System.arraycopy(v, b2, rz, 0, OUT);
      for (int j = 0; j < hidden; j++) {
        double hj = h[j];
        double rhj = rh[j];
        int o = w2 + j * OUT;
        for (int k = 0; k < OUT; k++) rz[k] += hj * v[o + k] + rhj * x[o + k];
      }
      double m = max(z);
      double s = 0;
      for (int k = 0; k < OUT; k++) s += Math.exp(z[k] - m);
      double lse = m + Math.log(s);
      double prz = 0;
      for (int k = 0; k < OUT; k++) {
        z[k] = Math.exp(z[k] - lse);   // z becomes p
        prz += z[k] * rz[k];
      }
      for (int k = 0; k < OUT; k++) {
        rz[k] = z[k] * (rz[k] - prz) * inv;             // Rδz
        z[k] = (z[k] - (k == label ? 1 : 0)) * inv;     // δz
        hv[b2 + k] += rz[k];
      }
      for (int j = 0; j < hidden; j++) {
        double hj = h[j];
        double rhj = rh[j];
        int o = w2 + j * OUT;
        double dh = 0;
        double rdh = 0;
        for (int k = 0; k < OUT; k++) {
          hv[o + k] += rhj * z[k] + hj * rz[k];
          dh += x[o + k] * z[k];
          rdh += v[o + k] * z[k] + x[o + k] * rz[k];
        }
        rdpre[j] = rdh * (1 - hj * hj) - 2 * hj * rhj * dh;
      }
      for (int j = 0; j < hidden; j++) hv[b1 + j] += rdpre[j];
      for (int k = Data.START[r], e = Data.START[r + 1]; k < e; k++) {
        double xi = val[k];
        int o = idx[k] * hidden;
        for (int j = 0; j < hidden; j++) hv[o + j] += xi * rdpre[j];
      }
    }
  }

  /** The fraction of all rows whose argmax logit (first on ties) is the label. */
  @Override
  public double accuracy(double[] x) {
    int hits = 0;
    for (int r = 0; r < d.rows; r++) {
      int label = forward(x, r);
      int best = 0;
      for (int k = 1; k < OUT; k++) if (z[k] > z[best]) best = k;
      if (best == label) hits++;
    }
    return (double) hits / d.rows;
  }

  /** Fills {@link #h} (tanh activations) and {@link #z} (logits) for row r; returns its label. */
  private int forward(double[] x, int r) {
    int[] idx = Data.IDX;
    double[] val = Data.VAL;
    System.arraycopy(x, b1, h, 0, hidden);
    for (int k = Data.START[r], e = Data.START[r + 1]; k < e; k++) {
      double xi = val[k];
      int o = idx[k] * hidden;
      for (int j = 0; j < hidden; j++) h[j] += xi * x[o + j];
    }
    for (int j = 0; j < hidden; j++) h[j] = tanh(h[j]);
    System.arraycopy(x, b2, z, 0, OUT);
    for (int j = 0; j < hidden; j++) {
      double hj = h[j];
      int o = w2 + j * OUT;
      for (int k = 0; k < OUT; k++) z[k] += hj * x[o + k];
    }
    return (int) d.y[r];
  }

  /**
   * tanh through the intrinsic {@link Math#exp} (JDK 17's Math.tanh is a slow native call, half of a
   * full-batch step): within 3e-16 (absolute) of Math.tanh; odd; ±1 at ±∞; NaN for NaN. Below 1e-5 in
   * magnitude it is a − a³/3, avoiding total cancellation in 1 − t.
   */
  static double tanh(double a) {
    double m = Math.abs(a);
    if (m < 1e-5) return a - a * a * a / 3;
    double t = Math.exp(-2 * m);
    return Math.copySign((1 - t) / (1 + t), a);
  }

  private static double max(double[] a) {
    double m = a[0];
    for (int k = 1; k < a.length; k++) m = Math.max(m, a[k]);
    return m;
  }
}
