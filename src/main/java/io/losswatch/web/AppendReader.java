package io.losswatch.web;

import ch.randelshofer.fastdoubleparser.JsonDoubleParser;
import io.losswatch.core.config.Json;
import io.losswatch.core.config.JsonCursor;
import io.losswatch.core.config.Options;
import io.losswatch.core.config.SpecException;
import io.losswatch.event.Append;
import io.losswatch.event.StepBatch;
import io.losswatch.run.Run;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads an append's body straight into columns: a strict JSON reader for exactly this shape,
 * {@code {"step":[…],"loss":[…],"lr":[…],"grad_norm":[…],"t":[…],"metrics":{"name":[…]},"acks":[{"id","step"}]}},
 * with no tree of boxed numbers in between (an append carries tens of thousands of them). A guarded run's append says
 * its {@code "cycle"}; a script that measures curvature sends the columns {@code "sharpness"} and {@code "stability"}
 * (null where not measured; the steps' typed curvature columns, as a built-in run's, kept only when some step of the
 * append was measured) and, when they change, {@code "curvature": {"preconditioned", "threshold"}}. An acknowledgement
 * may say the script could not carry the command out ({@code "error"}), and a probe's carries {@code "outcomes"},
 * {@code "seconds"} and, when it ran none, {@code "refused"}. Everything is checked before anything is stored; an
 * error names the field and the value, or the offset of malformed JSON.
 */
final class AppendReader extends JsonCursor {
  /** Steps one append may carry at most (a script sends what piled up since its last one, a few thousand). */
  static final int MAX_STEPS = 10_000;
  /**
   * Extra scalars an append may carry at most (a run may have as many in all), and the form of their names: 1 to 64
   * letters, digits and {@code _ . / -}, starting with a letter or {@code _} ({@code train/loss}, {@code val.acc}).
   */
  static final int MAX_METRICS = Run.MAX_METRICS;
  static final Pattern METRIC_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_./-]{0,63}");
  /** Branches a probe's acknowledgement may report at most. */
  static final int MAX_OUTCOMES = 16;
  /** The largest step or time: 2^53, the last integer of a run of them every JSON reader holds exactly. */
  static final long MAX_INTEGER = 1L << 53;
  private AppendReader(String s) {
    super(s);
  }

  /** The append in {@code body} to run {@code run}; steps without a time get {@code now}. */
  static Append read(String run, String body, long now) {
    return new AppendReader(body).append(run, now);
  }

  private Append append(String run, long now) {
    ws();
    if (!peek('{')) throw new SpecException("", "an append must be a JSON object");
    i++;
    Map<String, Object> fields = new LinkedHashMap<>();
    ws();
    if (peek('}')) {
      i++;
    } else {
      while (true) {
        ws();
        String key = string("");
        ws();
        expect(':');
        ws();
        if (fields.containsKey(key)) throw new SpecException(key, "duplicate key");
        fields.put(key, switch (key) {
          case "step", "t" -> numbers(key, true);
          case "loss", "lr", "grad_norm", "sharpness", "stability" -> numbers(key, false);
          case "metrics" -> metrics();
          case "acks" -> acks();
          case "cycle" -> integer(key, 0);
          case "curvature" -> curvature(Options.of("curvature", tree("curvature")));
          default -> throw new SpecException(key, "unknown key in an append (step, loss, lr, grad_norm, t, metrics, acks,"
              + " cycle, sharpness, stability, curvature)");
        });
        ws();
        if (peek(',')) {
          i++;
          continue;
        }
        expect('}');
        break;
      }
    }
    ws();
    if (i != s.length()) throw error("unexpected trailing content");
    return build(run, now, fields);
  }

  @SuppressWarnings("unchecked")
  private static Append build(String run, long now, Map<String, Object> f) {
    double[] step = (double[]) f.getOrDefault("step", new double[0]);
    int n = step.length;
    if (n > 0 && !f.containsKey("loss")) throw new SpecException("loss", "is required, one value per step");
    long[] steps = new long[n];
    for (int k = 0; k < n; k++) {
      steps[k] = (long) step[k];
      if (k > 0 && steps[k] <= steps[k - 1]) {
        throw new SpecException("step[" + k + "]", "steps must increase: step[" + (k - 1) + "] is " + steps[k - 1]
            + ", got " + steps[k]);
      }
    }
    long[] t = new long[n];
    if (f.get("t") instanceof double[] times) {
      length("t", times, n);
      for (int k = 0; k < n; k++) t[k] = (long) times[k];
    } else {
      Arrays.fill(t, now);
    }
    Map<String, double[]> metrics = (Map<String, double[]>) f.getOrDefault("metrics", Map.of());
    for (Map.Entry<String, double[]> e : metrics.entrySet()) length("metrics." + e.getKey(), e.getValue(), n);
    for (String c : Append.CURVATURE) {
      if (metrics.containsKey(c)) {
        throw new SpecException("metrics." + c, "is the curvature's column of that name: name the metric otherwise");
      }
    }
    List<Append.Ack> acks = (List<Append.Ack>) f.getOrDefault("acks", List.of());
    if (f.get("cycle") instanceof Double c && c > Integer.MAX_VALUE) throw new SpecException("cycle", "too large: " + (long) (double) c);
    int cycle = f.get("cycle") instanceof Double c ? (int) (double) c : -1;
    double[] lr = column(f, "lr", n);
    for (int k = 0; k < n; k++) {   // NaN: not known; 0 is where a schedule may end; Infinity is shown as sent
      if (lr[k] < 0) {
        throw new SpecException("lr[" + k + "]", "must be >= 0 (null or \"NaN\" when not known), got " + Json.format(lr[k]));
      }
    }
    // the curvature's columns: kept when some step was measured (null elsewhere); one without the other is NaN
    double[] sharpness = f.containsKey("sharpness") ? column(f, "sharpness", n) : null;
    double[] stability = f.containsKey("stability") ? column(f, "stability", n) : null;
    if (!measured(sharpness) && !measured(stability)) {
      sharpness = stability = null;
    } else {
      if (sharpness == null) sharpness = column(f, "sharpness", n);
      if (stability == null) stability = column(f, "stability", n);
    }
    return new Append(new StepBatch(run, 0, steps, column(f, "loss", n), lr, column(f, "grad_norm", n), t, metrics,
        sharpness, stability), acks, cycle, (Append.Curvature) f.get("curvature"));
  }

  private static boolean measured(double[] column) {
    if (column == null) return false;
    for (double v : column) if (!Double.isNaN(v)) return true;
    return false;
  }

  /** {@code {"preconditioned": bool, "threshold": x}}: a threshold of null (or "Infinity") is none. */
  private static Append.Curvature curvature(Options o) {
    boolean preconditioned = o.bool("preconditioned", false);
    Object th = o.raw("threshold");
    double threshold = th == null || "Infinity".equals(th) ? Double.NaN
        : o.number("threshold", Double.NaN, v -> v > 0, "must be > 0, null or \"Infinity\"");
    o.done("curvature (preconditioned, threshold)");
    return new Append.Curvature(preconditioned, threshold);
  }

  private static double[] column(Map<String, Object> f, String key, int n) {
    if (!(f.get(key) instanceof double[] v)) {
      double[] none = new double[n];
      Arrays.fill(none, Double.NaN);
      return none;
    }
    return length(key, v, n);
  }

  private static double[] length(String field, double[] v, int n) {
    if (v.length != n) throw new SpecException(field, "must have one value per step (" + n + "), got " + v.length);
    return v;
  }

  /** An array of numbers (or, unless {@code integers}, null, "NaN", "Infinity", "-Infinity"). */
  private double[] numbers(String field, boolean integers) {
    if (!peek('[')) throw new SpecException(field, "must be an array");
    i++;
    double[] out = new double[64];
    int n = 0;
    ws();
    if (peek(']')) {
      i++;
      return new double[0];
    }
    while (true) {
      ws();
      if (n == MAX_STEPS) throw new ApiError(413, field + ": at most " + MAX_STEPS + " steps in one append; send them in parts", field);
      if (n == out.length) out = Arrays.copyOf(out, n * 2);
      double v = value(field, n, integers);
      out[n++] = v;
      ws();
      if (peek(',')) {
        i++;
        continue;
      }
      expect(']');
      return Arrays.copyOf(out, n);
    }
  }

  private double value(String field, int k, boolean integer) {
    return integer ? integer(field + "[" + k + "]", 1) : number(field, k);
  }

  /**
   * A step, a time or a cycle: an integer written as one, with digits only, from {@code min} to 2^53 (the integers
   * every JSON reader holds exactly). Read from the text, never through a double, which would round
   * {@code 7.0000000000000001} to 7.
   */
  private double integer(String field, long min) {
    int start = i;
    char c = i < s.length() ? s.charAt(i) : 0;
    if (c != '-' && (c < '0' || c > '9')) {
      throw new SpecException(field, "must be an integer, got " + s.substring(i, Math.min(s.length(), i + 20)));
    }
    skipNumber();
    String text = s.substring(start, i);
    boolean digits = text.chars().allMatch(d -> d >= '0' && d <= '9');
    if (!digits || text.length() > 16 || Long.parseLong(text) < min || Long.parseLong(text) > MAX_INTEGER) {
      throw new SpecException(field, "must be an integer from " + min + " to " + MAX_INTEGER + " (2^53), written with"
          + " digits only, got " + (text.length() <= 40 ? text : text.substring(0, 40) + "..."));
    }
    return Long.parseLong(text);
  }

  /** A number, or null, "NaN", "Infinity", "-Infinity". */
  private double number(String field, int k) {
    char c = i < s.length() ? s.charAt(i) : 0;
    if (c == '-' || (c >= '0' && c <= '9')) {
      int start = skipNumber();
      return JsonDoubleParser.parseDouble(s, start, i - start);
    } else if (c == 'n' && s.startsWith("null", i)) {
      i += 4;
      return Double.NaN;
    } else if (c == '"') {
      int start = i;
      String word = string(field);
      switch (word) {
        case "NaN": return Double.NaN;
        case "Infinity": return Double.POSITIVE_INFINITY;
        case "-Infinity": return Double.NEGATIVE_INFINITY;
        default:
          throw new SpecException(field + "[" + k + "]", "must be a number, null, \"NaN\", \"Infinity\" or \"-Infinity\", got "
              + s.substring(start, Math.min(i, start + 40)));
      }
    }
    throw new SpecException(field + "[" + k + "]", "must be a number, null, \"NaN\", \"Infinity\" or \"-Infinity\", got "
        + s.substring(i, Math.min(s.length(), i + 20)));
  }

  private Map<String, double[]> metrics() {
    if (!peek('{')) throw new SpecException("metrics", "must be an object of columns");
    i++;
    Map<String, double[]> out = new LinkedHashMap<>();
    ws();
    if (peek('}')) {
      i++;
      return out;
    }
    while (true) {
      ws();
      String name = string("metrics");
      if (!METRIC_NAME.matcher(name).matches()) {
        throw new SpecException("metrics." + name, "a name is a letter or _ then letters, digits, _ . / or -, at most 64"
            + " in all, got " + Json.write(name));
      }
      if (out.containsKey(name)) throw new SpecException("metrics." + name, "duplicate key");
      if (out.size() == MAX_METRICS) throw new SpecException("metrics", "at most " + MAX_METRICS + " names");
      ws();
      expect(':');
      ws();
      out.put(name, numbers("metrics." + name, false));
      ws();
      if (peek(',')) {
        i++;
        continue;
      }
      expect('}');
      return java.util.Collections.unmodifiableMap(out);
    }
  }

  private List<Append.Ack> acks() {
    if (!peek('[')) throw new SpecException("acks", "must be an array");
    i++;
    List<Append.Ack> out = new ArrayList<>();
    ws();
    if (peek(']')) {
      i++;
      return out;
    }
    while (true) {
      ws();
      String field = "acks[" + out.size() + "]";
      if (out.size() == 100) throw new SpecException("acks", "at most 100");
      if (!peek('{')) throw new SpecException(field, "must be an object {\"id\":…,\"step\":…}");
      out.add(ack(field, Options.of(field, tree(field))));
      ws();
      if (peek(',')) {
        i++;
        continue;
      }
      expect(']');
      return out;
    }
  }

  /**
   * {@code {"id", "step"}}, and what a command's kind adds: {@code "error"} (the script could not carry it out),
   * a probe's {@code "outcomes"}, {@code "seconds"} and {@code "refused"}; {@code "cycle"} (a rewind's) is the
   * append's to say, and ignored here.
   */
  private static Append.Ack ack(String field, Options o) {
    String id = o.string("id", null);
    Object step = o.raw("step");
    if (id == null || step == null) throw new SpecException(field, "needs the command's id and the step it took effect at");
    if (id.isEmpty() || id.length() > 64) throw o.fail("id", "1 to 64 characters, got " + id.length());
    long at = (long) o.number("step", v -> v == Math.rint(v) && v >= 0 && v <= MAX_INTEGER, "must be an integer from 0 to 2^53");
    String error = text(o, "error");
    String refused = text(o, "refused");
    double seconds = o.number("seconds", Double.NaN, v -> v >= 0, "must be >= 0");
    List<Append.Outcome> outcomes = new ArrayList<>();
    if (o.raw("outcomes") != null) {
      if (!(o.raw("outcomes") instanceof List<?> l)) throw o.fail("outcomes", "must be an array, got " + Options.describe(o.raw("outcomes")));
      if (l.size() > MAX_OUTCOMES) throw o.fail("outcomes", "at most " + MAX_OUTCOMES + " branches, got " + l.size());
      for (int k = 0; k < l.size(); k++) outcomes.add(outcome(Options.of(o.field("outcomes") + "[" + k + "]", l.get(k))));
    }
    o.raw("cycle");
    o.done("an acknowledgement (id, step, error, outcomes, seconds, refused, cycle)");
    return new Append.Ack(id, at, error, List.copyOf(outcomes), seconds, refused);
  }

  /** {@code {"factor", "end_loss", "finite"[, "error"]}}: an end loss of null (or "NaN") once the branch broke down. */
  private static Append.Outcome outcome(Options o) {
    double factor = o.number("factor", v -> v > 0, "must be > 0");
    Object end = o.raw("end_loss");
    double endLoss = end == null || end instanceof String ? Double.NaN : o.number("end_loss", Double.NaN, v -> true, "");
    if (end instanceof String str && !List.of("NaN", "Infinity", "-Infinity").contains(str)) {
      throw o.fail("end_loss", "must be a number, null, \"NaN\", \"Infinity\" or \"-Infinity\", got " + Options.describe(end));
    }
    boolean finite = o.bool("finite", false);
    String error = text(o, "error");
    o.done("a probe's outcome (factor, end_loss, finite, error)");
    return new Append.Outcome(factor, endLoss, finite && Double.isFinite(endLoss), error);
  }

  /** An optional text of at most 1000 characters. */
  private static String text(Options o, String key) {
    String v = o.string(key, null);
    if (v != null && v.length() > 1000) throw o.fail(key, "at most 1000 characters, got " + v.length());
    return v;
  }

  /** The JSON value here, read whole by the core reader (a small object: an acknowledgement, the curvature's facts). */
  private Object tree(String field) {
    int start = i;
    int depth = 0;
    do {
      if (i >= s.length()) throw error("unterminated " + field);
      char c = s.charAt(i);
      if (c == '"') {
        string(field);
        continue;
      }
      if (c == '{' || c == '[') depth++;
      else if (c == '}' || c == ']') depth--;
      i++;
    } while (depth > 0);
    try {
      return Json.parse(s.substring(start, i));
    } catch (SpecException e) {
      throw new SpecException(field, "malformed: " + e.getMessage());
    }
  }

  /** A JSON string, checked strictly by the core reader (escapes, surrogates). */
  private String string(String field) {
    if (!peek('"')) throw new SpecException(field, "expected a string at offset " + i);
    int start = i++;
    while (i < s.length() && s.charAt(i) != '"') i += s.charAt(i) == '\\' ? 2 : 1;
    if (i >= s.length()) throw error("unterminated string");
    i++;
    Object v = Json.parse(s.substring(start, i));
    return (String) v;
  }
}
