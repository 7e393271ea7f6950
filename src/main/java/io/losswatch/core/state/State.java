package io.losswatch.core.state;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A component's exact state, as torch's {@code state_dict()}: named numbers, arrays and nested states. What goes
 * in is copied, what comes out is a copy, so a state never aliases the object it came from. {@link #toBytes}
 * keeps every bit (NaNs and signed zeros included), for a checkpoint on disk.
 */
public final class State {
  private static final int MAGIC = 0x4c575354;   // "LWST"
  private final Map<String, Object> values = new LinkedHashMap<>();

  public State put(String key, double v) {
    values.put(key, v);
    return this;
  }

  public State put(String key, long v) {
    values.put(key, v);
    return this;
  }

  public State put(String key, boolean v) {
    return put(key, v ? 1L : 0L);
  }

  /** A copy of {@code v}; null is kept as absent. */
  public State put(String key, double[] v) {
    if (v != null) values.put(key, v.clone());
    return this;
  }

  public State put(String key, int[] v) {
    if (v != null) values.put(key, v.clone());
    return this;
  }

  public State put(String key, State v) {
    values.put(key, v);
    return this;
  }

  /** Whether {@code key} is here: a key added later is absent from states saved before it. */
  public boolean has(String key) {
    return values.containsKey(key);
  }

  public double number(String key) {
    return (Double) get(key);
  }

  public long integer(String key) {
    return (Long) get(key);
  }

  public boolean bool(String key) {
    return integer(key) != 0;
  }

  /** Copies the array {@code key} into {@code into}, which must have its length. */
  public void copy(String key, double[] into) {
    double[] v = (double[]) get(key);
    if (v.length != into.length) throw mismatch(key, v.length, into.length);
    System.arraycopy(v, 0, into, 0, v.length);
  }

  public void copy(String key, int[] into) {
    int[] v = (int[]) get(key);
    if (v.length != into.length) throw mismatch(key, v.length, into.length);
    System.arraycopy(v, 0, into, 0, v.length);
  }

  public State state(String key) {
    return (State) get(key);
  }

  /** About how many bytes the state holds, for bounding how many are kept. */
  public long bytes() {
    long n = 0;
    for (Object v : values.values()) {
      n += 16 + (v instanceof double[] a ? 8L * a.length : v instanceof int[] a ? 4L * a.length
          : v instanceof State s ? s.bytes() : 8);
    }
    return n;
  }

  private Object get(String key) {
    Object v = values.get(key);
    if (v == null) throw new IllegalArgumentException("state has no '" + key + "' (it has " + values.keySet() + ")");
    return v;
  }

  private static IllegalArgumentException mismatch(String key, int had, int want) {
    return new IllegalArgumentException("state '" + key + "' has " + had + " values, not " + want);
  }

  public byte[] toBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Reads what {@link #toBytes} wrote; a torn or foreign file fails with IllegalArgumentException. */
  public static State fromBytes(byte[] b) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(b))) {
      if (in.readInt() != MAGIC) throw new IllegalArgumentException("not a losswatch state");
      State s = read(in);
      if (in.available() != 0) throw new IllegalArgumentException("trailing bytes after the state");
      return s;
    } catch (IOException | ClassCastException | NegativeArraySizeException e) {
      throw new IllegalArgumentException("a torn state: " + e, e);
    }
  }

  private void write(DataOutputStream out) throws IOException {
    out.writeInt(values.size());
    for (Map.Entry<String, Object> e : values.entrySet()) {
      out.writeUTF(e.getKey());
      Object v = e.getValue();
      if (v instanceof Double d) {
        out.writeByte('d');
        out.writeLong(Double.doubleToRawLongBits(d));
      } else if (v instanceof Long l) {
        out.writeByte('l');
        out.writeLong(l);
      } else if (v instanceof double[] a) {
        out.writeByte('D');
        out.writeInt(a.length);
        for (double x : a) out.writeLong(Double.doubleToRawLongBits(x));
      } else if (v instanceof int[] a) {
        out.writeByte('I');
        out.writeInt(a.length);
        for (int x : a) out.writeInt(x);
      } else {
        out.writeByte('S');
        ((State) v).write(out);
      }
    }
  }

  private static State read(DataInputStream in) throws IOException {
    State s = new State();
    int n = in.readInt();
    for (int i = 0; i < n; i++) {
      String key = in.readUTF();
      int tag = in.readByte();
      switch (tag) {
        case 'd' -> s.values.put(key, Double.longBitsToDouble(in.readLong()));
        case 'l' -> s.values.put(key, in.readLong());
        case 'D' -> {
          double[] a = new double[checkedLength(in)];
          for (int k = 0; k < a.length; k++) a[k] = Double.longBitsToDouble(in.readLong());
          s.values.put(key, a);
        }
        case 'I' -> {
          int[] a = new int[checkedLength(in)];
          for (int k = 0; k < a.length; k++) a[k] = in.readInt();
          s.values.put(key, a);
        }
        case 'S' -> s.values.put(key, read(in));
        default -> throw new IOException("unknown tag " + tag);
      }
    }
    return s;
  }

  /** A length no larger than the bytes left could hold, so a torn length can't allocate gigabytes. */
  private static int checkedLength(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > in.available()) throw new IOException("a length of " + n + " with " + in.available() + " bytes left");
    return n;
  }
}
