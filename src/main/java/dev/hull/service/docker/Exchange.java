package dev.hull.service.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

/** One API request and its answer: the path below the version prefix, its query, its JSON body. */
final class Exchange {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Bodies larger than this are refused (container create, network create ... are small). */
    private static final int MAX_BODY = 4 << 20;
    /** One JSON value and nothing after it (dockerd: "unexpected content after JSON"). */
    private static final com.fasterxml.jackson.databind.ObjectReader BODY = JSON.reader()
            .with(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    final Request request;
    final Response response;
    final Callback callback;
    final String method;
    /** The path without the /v1.NN prefix, split at '/': "/containers/ID/json" → [containers, ID, json]. */
    final List<String> path;
    /** The API version the client asked for (the prefix), or the newest. */
    final String version;
    final DockerApiServer api;
    private final Fields query;
    private boolean answered;

    Exchange(Request request, Response response, Callback callback, String version, List<String> path,
            DockerApiServer api) {
        this.api = api;
        this.request = request;
        this.response = response;
        this.callback = callback;
        this.method = request.getMethod();
        this.version = version;
        this.path = path;
        this.query = Request.extractQueryParameters(request, StandardCharsets.UTF_8);
    }

    boolean is(String method, String... segments) {
        if (!this.method.equals(method) && !(method.equals("GET") && this.method.equals("HEAD"))) {
            return false;
        }
        if (segments.length != path.size()) {
            return false;
        }
        for (int i = 0; i < segments.length; i++) {
            if (!segments[i].equals("*") && !segments[i].equals(path.get(i))) {
                return false;
            }
        }
        return true;
    }

    String seg(int i) {
        return path.get(i);
    }

    String param(String name) {
        Fields.Field f = query.get(name);
        return f == null ? null : f.getValue();
    }

    /** Every value of a repeated query parameter (names=a&names=b). */
    List<String> params(String name) {
        Fields.Field f = query.get(name);
        return f == null ? List.of() : f.getValues();
    }

    String param(String name, String otherwise) {
        String v = param(name);
        return v == null ? otherwise : v;
    }

    /** docker's booleans in queries: 1, true, True (and anything but 0/false/empty means true). */
    boolean flag(String name) {
        String v = param(name);
        return v != null && !v.isEmpty() && !v.equals("0") && !v.equalsIgnoreCase("false");
    }

    Integer intParam(String name) throws ApiError {
        String v = param(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("invalid value for " + name + ": " + v);
        }
    }

    /** dockerd's since/until: unix seconds, with an optional fraction (0: none). */
    java.time.Instant time(String name) throws ApiError {
        String v = param(name);
        if (v == null || v.isEmpty() || v.equals("0")) {
            return null;
        }
        try {
            java.math.BigDecimal d = new java.math.BigDecimal(v);
            long sec = d.longValue();
            long nanos = d.subtract(java.math.BigDecimal.valueOf(sec)).movePointRight(9).longValue();
            return java.time.Instant.ofEpochSecond(sec, nanos);
        } catch (NumberFormatException e) {
            try {
                return java.time.Instant.parse(v);
            } catch (RuntimeException e2) {
                throw ApiError.badRequest("invalid time: " + v);
            }
        }
    }

    /** The filters query parameter: {"label": ["a=b"], ...} (also the old {"label": {"a=b": true}} form). */
    java.util.Map<String, List<String>> filters() throws ApiError {
        java.util.Map<String, List<String>> out = new java.util.LinkedHashMap<>();
        String f = param("filters");
        if (f == null || f.isBlank()) {
            return out;
        }
        JsonNode n;
        try {
            n = JSON.readTree(f);
        } catch (IOException e) {
            throw ApiError.badRequest("invalid filters: " + e.getMessage());
        }
        if (!n.isObject()) {
            throw ApiError.badRequest("invalid filters: not a JSON object");
        }
        for (var e : n.properties()) {
            List<String> values = new java.util.ArrayList<>();
            if (e.getValue().isArray()) {
                e.getValue().forEach(v -> values.add(v.asText()));
            } else if (e.getValue().isObject()) {
                e.getValue().properties().forEach(v -> {
                    if (v.getValue().asBoolean()) {
                        values.add(v.getKey());
                    }
                });
            }
            out.put(e.getKey(), values);
        }
        return out;
    }

    /**
     * dockerd's filter semantics: every filter key other than label and label! needs one of its
     * values to hold (holds(key, value)), and the label filters hold on labels.
     */
    static boolean filtersMatch(java.util.Map<String, List<String>> filters,
            java.util.function.BiPredicate<String, String> holds, java.util.Map<String, String> labels) {
        for (var f : filters.entrySet()) {
            if (!f.getKey().startsWith("label") && !f.getValue().isEmpty()
                    && f.getValue().stream().noneMatch(v -> holds.test(f.getKey(), v))) {
                return false;
            }
        }
        return labelsMatch(filters, labels);
    }

    /**
     * dockerd's label filters on an object's labels: every "label" value (KEY or KEY=VALUE) holds
     * and no "label!" value does.
     */
    static boolean labelsMatch(java.util.Map<String, List<String>> filters, java.util.Map<String, String> labels) {
        return dev.hull.engine.EventMessages.labelsMatch(filters, labels);
    }

    /** The request body as JSON (an empty body: null JSON). */
    JsonNode body() throws ApiError {
        try {
            long length = request.getLength();
            if (length > MAX_BODY) {
                throw new ApiError(413, "request body of " + length + " bytes refused (at most " + MAX_BODY + ")");
            }
            ByteBuffer buf = Content.Source.asByteBufferAsync(request, MAX_BODY).get();
            if (!buf.hasRemaining()) {
                return NullNode.getInstance();
            }
            byte[] b = new byte[buf.remaining()];
            buf.get(b);
            return BODY.readTree(b);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw ApiError.badRequest("invalid JSON in the request body: " + e.getOriginalMessage());
        } catch (java.util.concurrent.ExecutionException e) {
            String m = String.valueOf(e.getCause().getMessage());
            if (m.startsWith("Max size")) { // sent without a length (chunked): refused once past the limit
                throw new ApiError(413, "request body refused: longer than " + MAX_BODY + " bytes");
            }
            throw ApiError.badRequest("request body: " + m);
        } catch (IOException e) {
            throw ApiError.badRequest("request body: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(500, "interrupted");
        }
    }

    void json(int status, Object value) throws IOException {
        byte[] b = JSON.writeValueAsBytes(value);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        byte[] withNewline = java.util.Arrays.copyOf(b, b.length + 1);
        withNewline[b.length] = '\n';
        answered = true;
        response.write(true, ByteBuffer.wrap(withNewline), callback);
    }

    /** A JSON body already written (a newline is added, as json does). */
    void jsonBytes(int status, byte[] b) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        byte[] withNewline = java.util.Arrays.copyOf(b, b.length + 1);
        withNewline[b.length] = '\n';
        answered = true;
        response.write(true, ByteBuffer.wrap(withNewline), callback);
    }

    void text(int status, String contentType, String body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        answered = true;
        response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
    }

    void empty(int status) {
        response.setStatus(status);
        answered = true;
        response.write(true, null, callback);
    }

    void error(int status, String message) {
        if (answered || response.isCommitted()) {
            callback.failed(new IOException(message));
            return;
        }
        try {
            response.reset();
            Router.headers(response);
            json(status, JSON.createObjectNode().put("message", message));
        } catch (IOException | RuntimeException e) {
            callback.failed(e);
        }
    }

    /** A streamed body (chunked): write and flush as things happen; {@link #finish} when done. */
    OutputStream stream(int status, String contentType) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        answered = true;
        return Content.Sink.asOutputStream(response);
    }

    /** A buffered view of a streamed body whose close (by a tar writer) only flushes: {@link #finish} ends it. */
    static OutputStream unclosed(OutputStream body) {
        return new java.io.BufferedOutputStream(body, 1 << 16) {
            @Override
            public void close() throws IOException {
                flush();
            }
        };
    }

    /** What writes a streamed body (a tar): the engine's errors before the 200 are still status codes. */
    @FunctionalInterface
    interface BodyWriter {
        void write(OutputStream out) throws IOException, dev.hull.runtime.RuntimeError;
    }

    /** A tar streamed as the answer; a client that goes away ends it. */
    void tar(BodyWriter writer) throws IOException, dev.hull.runtime.RuntimeError {
        OutputStream out = stream(200, "application/x-tar");
        try {
            OutputStream body = unclosed(out);
            writer.write(body);
            body.flush();
        } catch (IOException gone) {
            callback.failed(gone);
            return;
        }
        finish(out);
    }

    void finish(OutputStream stream) {
        try {
            stream.close();
            callback.succeeded();
        } catch (IOException | RuntimeException e) {
            callback.failed(e);
        }
    }

    boolean answered() {
        return answered;
    }

    void markAnswered() {
        answered = true;
    }
}
