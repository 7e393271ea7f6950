package io.losswatch.core.policy;

/**
 * A loss spike, as LLM Foundry's {@code KillLossSpike} defines it: the loss at least {@link #FACTOR}× its mean
 * over the {@link #WINDOW} steps before, for more than {@link #PATIENCE} steps in a row. Spiking steps are kept
 * out of the mean, so a spike can't raise its own bar; the mean needs {@link #MIN_STEPS} steps first.
 *
 * <p>A script's minibatch loss is noisier than the large batches that rule was made for: a small classifier's batch
 * of 64 near a loss of 0.1 gives five losses over twice the mean in a row every thousand steps or so, by chance
 * (Adam at lr 0.01 on issue 20's digits MLP fired it three times in 900 steps). For such a loss ({@code minibatch})
 * a spiking step must also pass every loss of the window: five in a row by chance is then about 1e-10.
 */
public final class Spikes {
  public static final int WINDOW = 100;
  public static final double FACTOR = 2;
  public static final int PATIENCE = 4;
  static final int MIN_STEPS = 10;
  private final double[] window = new double[WINDOW];
  private final boolean minibatch;
  private int n;
  private int inARow;

  /** LLM Foundry's rule, for a built-in run's loss. */
  public Spikes() {
    this(false);
  }

  /** {@code minibatch}: a script's noisy loss, whose spikes must also pass the window's largest loss. */
  public Spikes(boolean minibatch) {
    this.minibatch = minibatch;
  }

  /** Takes a finite loss; true at the step that makes the spike last longer than {@link #PATIENCE} steps. */
  public boolean observe(double loss) {
    int size = Math.min(n, WINDOW);
    if (size >= MIN_STEPS && loss >= FACTOR * mean(size) && (!minibatch || loss > max(size))) {
      return ++inARow == PATIENCE + 1;
    }
    inARow = 0;
    window[n % WINDOW] = loss;
    n++;
    return false;
  }

  /** Summed afresh: a running sum of losses that fall from 1e2 to 1e-40 cancels into noise, even below zero. */
  private double mean(int size) {
    double sum = 0;
    for (int i = 0; i < size; i++) sum += window[i];
    return sum / size;
  }

  private double max(int size) {
    double m = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < size; i++) m = Math.max(m, window[i]);
    return m;
  }

  public void reset() {
    n = 0;
    inARow = 0;
  }
}
