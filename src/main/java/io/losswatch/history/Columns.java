package io.losswatch.history;

/** A run of steps, read column by column: an in-memory batch, a mapped log, or both end to end. */
public interface Columns {
  /** No steps. */
  Columns EMPTY = new Columns() {
    @Override public int size() {
      return 0;
    }

    @Override public long step(int i) {
      throw new IndexOutOfBoundsException(i);
    }

    @Override public double loss(int i) {
      throw new IndexOutOfBoundsException(i);
    }

    @Override public double lr(int i) {
      throw new IndexOutOfBoundsException(i);
    }

    @Override public double gradNorm(int i) {
      throw new IndexOutOfBoundsException(i);
    }

    @Override public long t(int i) {
      throw new IndexOutOfBoundsException(i);
    }
  };

  int size();

  long step(int i);

  double loss(int i);

  double lr(int i);

  double gradNorm(int i);

  long t(int i);

  /** The extra scalars' names (an external run's val_loss, acc, …); none by default. */
  default java.util.List<String> metrics() {
    return java.util.List.of();
  }

  /** Extra scalar {@code k} of {@link #metrics()} at index {@code i}. */
  default double metric(int k, int i) {
    return Double.NaN;
  }

  /** Whether the columns hold a curvature measurement anywhere (then {@link #sharpness} may be a number). */
  default boolean curvature() {
    return false;
  }

  /** The sharpness measured at index {@code i}, NaN where none was. */
  default double sharpness(int i) {
    return Double.NaN;
  }

  /** The stability at index {@code i}, NaN where not measured. */
  default double stability(int i) {
    return Double.NaN;
  }
}
