package io.losswatch.bench;

import io.losswatch.core.config.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scripts appending to external runs as fast as the server takes them, in a process of their own:
 * {@code java -cp losswatch.jar io.losswatch.bench.IngestGenerator <port> <seconds> <steps per append> <run id>…}.
 * Each run gets one append in flight at a time (a script waits for its answer, as the Python client does), with
 * loss, lr and grad_norm for every step. Prints one JSON line: steps accepted a second, appends a second.
 */
public final class IngestGenerator {
  private IngestGenerator() {
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    long seconds = Long.parseLong(args[1]);
    int batch = Integer.parseInt(args[2]);
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    AtomicLong steps = new AtomicLong();
    AtomicLong appends = new AtomicLong();
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    // the values' text is written once: formatting doubles would make this process, not the server, the limit
    String columns = columns(batch);
    List<CompletableFuture<Void>> scripts = new ArrayList<>();
    for (int r = 3; r < args.length; r++) {
      URI uri = URI.create("http://127.0.0.1:" + port + "/api/runs/" + args[r] + "/steps");
      scripts.add(CompletableFuture.runAsync(() -> {
        long step = 0;
        try {
          while (System.nanoTime() < end) {
            StringBuilder b = new StringBuilder(columns.length() + batch * 10).append("{\"step\":[");
            for (int i = 0; i < batch; i++) (i > 0 ? b.append(',') : b).append(step + 1 + i);
            b.append(columns);
            HttpResponse<String> resp = http.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(b.toString())).build(), HttpResponse.BodyHandlers.ofString());
            if (resp.statusCode() != 200) throw new IllegalStateException(resp.statusCode() + " " + resp.body());
            step += batch;
            steps.addAndGet(batch);
            appends.incrementAndGet();
          }
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      }));
    }
    long start = System.nanoTime();
    CompletableFuture.allOf(scripts.toArray(new CompletableFuture[0])).join();
    double s = (System.nanoTime() - start) / 1e9;
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("steps_per_s", steps.get() / s);
    out.put("appends_per_s", appends.get() / s);
    System.out.println(Json.write(out));
  }

  /** {@code ],"loss":[…],"lr":[…],"grad_norm":[…]}}: a falling loss and its gradient norm, as a script would send. */
  private static String columns(int batch) {
    StringBuilder b = new StringBuilder(batch * 64).append("],\"loss\":[");
    for (int i = 0; i < batch; i++) (i > 0 ? b.append(',') : b).append(2.302585092994046 / (1 + i * 1e-3));
    b.append("],\"lr\":[");
    for (int i = 0; i < batch; i++) (i > 0 ? b.append(',') : b).append("0.001");
    b.append("],\"grad_norm\":[");
    for (int i = 0; i < batch; i++) (i > 0 ? b.append(',') : b).append(0.6931471805599453 / (1 + i * 1e-3));
    return b.append("]}").toString();
  }
}
