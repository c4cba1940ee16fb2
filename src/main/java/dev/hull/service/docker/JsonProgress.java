package dev.hull.service.docker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.image.Descriptor;
import dev.hull.image.registry.PullProgress;
import java.io.IOException;
import java.io.OutputStream;

/**
 * dockerd's streamed progress of a pull, push or load: one JSON message a line ({"status", "id",
 * "progressDetail"}, {"stream"}, {"aux"}, and {"errorDetail", "error"} for a failure once the
 * 200 is out). Nothing is sent until the first message: an error before is a plain status code.
 */
final class JsonProgress implements PullProgress {
    private final Exchange x;
    private OutputStream body;
    /** The first line ("Pulling from"), held back until the registry answered: an error before is a status. */
    ObjectNode first;
    private final String starting;
    private final String moving;

    JsonProgress(Exchange x, String starting, String moving) {
        this.x = x;
        this.starting = starting;
        this.moving = moving;
    }

    boolean started() {
        return body != null;
    }

    synchronized void send(ObjectNode n) {
        try {
            if (body == null) {
                body = x.stream(200, "application/json");
                if (first != null && first != n) {
                    body.write(Exchange.JSON.writeValueAsBytes(first));
                    body.write("\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                }
            }
            body.write(Exchange.JSON.writeValueAsBytes(n));
            body.write("\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            body.flush();
        } catch (IOException e) {
            // the client went away: the pull goes on (its layers are kept for the next one)
        }
    }

    void status(String status, String id) {
        ObjectNode n = Exchange.JSON.createObjectNode();
        n.put("status", status);
        if (id != null) {
            n.put("id", id);
        }
        send(n);
    }

    void error(String message) {
        ObjectNode n = Exchange.JSON.createObjectNode();
        n.putObject("errorDetail").put("message", message);
        n.put("error", message);
        send(n);
    }

    void finish() {
        if (body == null) {
            body = x.stream(200, "application/json");
        }
        x.finish(body);
    }

    @Override
    public void started(Descriptor layer, String shortId) {
        ObjectNode n = Exchange.JSON.createObjectNode();
        n.put("status", starting);
        n.putObject("progressDetail");
        n.put("id", shortId);
        send(n);
    }

    @Override
    public void progress(Descriptor layer, long done, long total) {
        ObjectNode n = Exchange.JSON.createObjectNode();
        n.put("status", moving);
        ObjectNode d = n.putObject("progressDetail");
        d.put("current", done);
        d.put("total", total);
        n.put("id", shortId(layer));
        send(n);
    }

    @Override
    public void done(Descriptor layer, String status) {
        ObjectNode n = Exchange.JSON.createObjectNode();
        n.put("status", status);
        n.putObject("progressDetail");
        n.put("id", shortId(layer));
        send(n);
    }

    private static String shortId(Descriptor layer) {
        String d = layer.digest();
        int colon = d.indexOf(':');
        String hex = colon >= 0 ? d.substring(colon + 1) : d;
        return hex.length() > 12 ? hex.substring(0, 12) : hex;
    }
}
