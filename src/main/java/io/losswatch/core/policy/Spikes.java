package io.losswatch.core.policy;

/**
 * A loss spike, as LLM Foundry's {@code KillLossSpike} defines it: the loss at least {@link #FACTOR}× its mean
 * over the {@link #WINDOW} steps before, for more than {@link #PATIENCE} steps in a row. Spiking steps are kept
 * out of the mean, so a spike can't raise its own bar; the mean needs {@link #MIN_STEPS} steps first.
 */
public final class Spikes {
  public static final int WINDOW = 100;
  public static final double FACTOR = 2;
  public static final int PATIENCE = 4;
  static final int MIN_STEPS = 10;
  private final double[] window = new double[WINDOW];
  private int n;
  private int inARow;

  /** Takes a finite loss; true at the step that makes the spike last longer than {@link #PATIENCE} steps. */
  public boolean observe(double loss) {
    int size = Math.min(n, WINDOW);
    if (size >= MIN_STEPS && loss >= FACTOR * mean(size)) return ++inARow == PATIENCE + 1;
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

  public void reset() {
    n = 0;
    inARow = 0;
  }
}
