package io.losswatch;

/**
 * How long the tests wait for something that must happen: a deadline only decides how soon a broken test fails,
 * never whether a working one passes, so it is generous. Each wait's nominal time (what it takes on a quiet machine,
 * with room) is stretched by {@link #FACTOR} (5, or {@code -Dlosswatch.patience=N}): the suite runs beside other
 * work, on 2 cores loaded to 6 or more.
 */
public final class Patience {
  public static final int FACTOR = Integer.getInteger("losswatch.patience", 5);

  private Patience() {
  }

  public static long seconds(long nominal) {
    return nominal * FACTOR;
  }
}
