package dev.hull.engine;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/**
 * What a container was made from, kept beside its bundle (containers/ID/container.json).
 *
 * @param args       the process the container runs (entrypoint and command resolved)
 * @param options    the create/run flags as given (null in records written before they were kept)
 * @param stopSignal resolved: --stop-signal, the image's StopSignal, or SIGTERM
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ContainerInfo(String id, String name, String image, String imageId, String created,
        List<String> exposedPorts, List<String> volumes, String snapshotter, List<String> args,
        CreateOptions options, String stopSignal) {

    public ContainerInfo withName(String newName) {
        return new ContainerInfo(id, newName, image, imageId, created, exposedPorts, volumes, snapshotter, args,
                options, stopSignal);
    }

    public String shortId() {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }
}
