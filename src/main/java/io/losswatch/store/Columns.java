package io.losswatch.store;

/** A run of steps, read column by column: an in-memory batch, a mapped log, or both end to end. */
interface Columns {
  int size();

  long step(int i);

  double loss(int i);

  double lr(int i);

  double gradNorm(int i);

  long t(int i);
}
