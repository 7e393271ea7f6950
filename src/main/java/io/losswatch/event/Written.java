package io.losswatch.event;

/**
 * The store's word to a run: its first {@code records} steps, up to step {@code lastStep}, are on disk. With a
 * {@code fault} (the reason, as the file system gave it), the steps after those could not be written; the store
 * keeps them and tries again until a plain {@code Written} says it caught up.
 */
public record Written(String run, long records, long lastStep, String fault) {
  public boolean failed() {
    return fault != null;
  }
}
