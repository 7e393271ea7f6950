package io.losswatch;

/**
 * Budgets (heap, time) are held only in the soak profile ({@code mvn verify -Psoak}, which sets
 * {@code losswatch.soak}): on a machine busy with other work they measure the machine, not the code. The ordinary
 * suite checks behaviour and prints the numbers.
 */
public final class Soak {
  public static final boolean ON = Boolean.getBoolean("losswatch.soak");

  private Soak() {
  }
}
