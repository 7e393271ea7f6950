package io.losswatch.core.problem;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A numeric table from a bundled CSV ({@code /datasets/<name>.csv}: one header row, numbers only, the target in
 * the last column): {@link #rows} rows of {@link #cols} features, flat and row-major in {@link #x}, and one
 * target per row in {@link #y}.
 *
 * <p>Treated as immutable: nobody writes {@link #x} or {@link #y} after construction, so one instance is shared
 * by every problem instance and thread. Each problem parses and prepares its dataset once per JVM in a lazy
 * holder class ({@code private static final class Data { static final Dataset D = ...; }}).
 */
final class Dataset {
  final int rows;
  final int cols;
  /** Features, {@code x[r * cols + j]}. Never written after construction. */
  final double[] x;
  /** Targets. Never written after construction. */
  final double[] y;

  private Dataset(int rows, int cols, double[] x, double[] y) {
    this.rows = rows;
    this.cols = cols;
    this.x = x;
    this.y = y;
  }

  /** Parses {@code /datasets/<name>.csv} from the classpath. */
  static Dataset load(String name) {
    String resource = "/datasets/" + name + ".csv";
    try (InputStream in = Dataset.class.getResourceAsStream(resource)) {
      if (in == null) throw new IllegalStateException("missing dataset resource " + resource);
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      String header = r.readLine();
      if (header == null) throw new IllegalStateException(resource + ": empty");
      int width = header.split(",", -1).length;
      if (width < 2) throw new IllegalStateException(resource + ": needs at least one feature and a target");
      List<double[]> lines = new ArrayList<>();
      String line;
      while ((line = r.readLine()) != null) {
        if (line.isBlank()) continue;
        String[] cells = line.split(",", -1);
        if (cells.length != width) {
          throw new IllegalStateException(resource + ": row " + (lines.size() + 1) + " has " + cells.length
              + " cells, header has " + width);
        }
        double[] v = new double[width];
        for (int j = 0; j < width; j++) v[j] = Double.parseDouble(cells[j].trim());
        lines.add(v);
      }
      int n = lines.size();
      int d = width - 1;
      double[] x = new double[n * d];
      double[] y = new double[n];
      for (int i = 0; i < n; i++) {
        double[] v = lines.get(i);
        System.arraycopy(v, 0, x, i * d, d);
        y[i] = v[d];
      }
      return new Dataset(n, d, x, y);
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + resource, e);
    }
  }

  /**
   * A copy with every feature column (and the target too, if {@code target}) standardized: minus its mean,
   * divided by its population standard deviation (sum of squares over n). A constant column is only centred.
   */
  Dataset standardized(boolean target) {
    double[] nx = x.clone();
    for (int j = 0; j < cols; j++) standardize(nx, j, cols, rows);
    double[] ny = y.clone();
    if (target) standardize(ny, 0, 1, rows);
    return new Dataset(rows, cols, nx, ny);
  }

  /** A copy with every feature divided by {@code divisor} (targets unchanged). */
  Dataset dividedBy(double divisor) {
    double[] nx = x.clone();
    for (int k = 0; k < nx.length; k++) nx[k] /= divisor;
    return new Dataset(rows, cols, nx, y.clone());
  }

  /** Standardizes entries {@code a[offset + r * stride]} for r in [0, n). */
  private static void standardize(double[] a, int offset, int stride, int n) {
    double sum = 0;
    for (int r = 0; r < n; r++) sum += a[offset + r * stride];
    double mean = sum / n;
    double ss = 0;
    for (int r = 0; r < n; r++) {
      double c = a[offset + r * stride] - mean;
      ss += c * c;
    }
    double std = Math.sqrt(ss / n);
    double div = std > 0 ? std : 1;
    for (int r = 0; r < n; r++) a[offset + r * stride] = (a[offset + r * stride] - mean) / div;
  }
}
