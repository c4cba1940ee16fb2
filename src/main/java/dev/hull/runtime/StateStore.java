package dev.hull.runtime;

import dev.hull.runtime.spec.Json;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Container state under the runtime's root directory: one directory per
 * container holding state.json and, until start, the exec fifo. The
 * directory's creation is what reserves an id.
 */
public final class StateStore {
    public static final String STATE_FILE = "state.json";
    public static final String EXEC_FIFO = "exec.fifo";
    public static final Path DEFAULT_ROOT = Path.of("/run/hull-runtime");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_+\\-.]{1,1024}");

    private final Path root;

    public StateStore(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /** Rejects ids that are not safe as a directory name, with a message that says what is allowed. */
    public static void validateId(String id) throws RuntimeError {
        if (id == null || id.isEmpty()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "container id must not be empty");
        }
        if (!ID.matcher(id).matches() || id.equals(".") || id.equals("..")) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid container id \"" + id
                    + "\": use 1 to 1024 of the characters A-Z a-z 0-9 _ + - . (and not \".\" or \"..\")");
        }
    }

    public Path dir(String id) {
        return root.resolve(id);
    }

    /**
     * The mode of a state root (/run/hull-runtime, and the engine's /run/hull): 0711, not 0700,
     * because the init of a container in a new user namespace opens its exec fifo by its path here
     * as the namespace's root, which on the host is an unprivileged uid (the fifo is chowned to it);
     * /run/hull also holds the warm server's socket, which members of group hull must reach. Search
     * only: nobody else can list the container ids, and what each container's directory (0711, made
     * by the executor) holds is the owner's alone: state.json 0600, the fifos 0600.
     */
    public static final int ROOT_MODE = dev.hull.linux.SecureDirs.TRAVERSABLE;

    /** Makes the root with {@link #ROOT_MODE}, or tightens an existing one (one stat). */
    public void secureRoot() throws IOException {
        dev.hull.linux.SecureDirs.ensure(root, ROOT_MODE);
    }

    /** Tightens the root to {@link #ROOT_MODE} if it exists (a root an older Hull made 0755). */
    public void tightenRoot() throws IOException {
        dev.hull.linux.SecureDirs.tighten(root, ROOT_MODE);
    }

    /** Reserves the id: creates its directory, or fails if a container with that id exists. */
    public Path reserve(String id) throws IOException, RuntimeError {
        validateId(id);
        secureRoot();
        Path dir = dir(id);
        try {
            Files.createDirectory(dir);
        } catch (FileAlreadyExistsException e) {
            throw new RuntimeError(RuntimeError.Kind.EXISTS, "container \"" + id + "\" already exists");
        } catch (AccessDeniedException e) {
            throw new RuntimeError(RuntimeError.Kind.PERMISSION, "cannot create " + dir + ": permission denied");
        }
        return dir;
    }

    /** Writes state.json atomically (temp file + rename), readable by root only (0600). */
    public void save(ContainerRecord rec) throws IOException {
        Path dir = dir(rec.id());
        Path tmp = dir.resolve(STATE_FILE + ".tmp");
        Files.deleteIfExists(tmp); // a leftover would keep its mode
        Files.createFile(tmp, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        Files.write(tmp, Json.write(rec.toJson(), false).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Files.move(tmp, dir.resolve(STATE_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    public ContainerRecord load(String id) throws IOException, RuntimeError {
        validateId(id);
        try {
            return ContainerRecord.fromJson(Json.read(Files.readAllBytes(dir(id).resolve(STATE_FILE))));
        } catch (NoSuchFileException e) {
            throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "container \"" + id + "\" does not exist");
        }
    }

    public List<String> ids() throws IOException {
        List<String> ids = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return ids;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                if (Files.isRegularFile(p.resolve(STATE_FILE))) {
                    ids.add(p.getFileName().toString());
                }
            }
        }
        ids.sort(null);
        return ids;
    }

    /** Removes the container's state directory (the known files, then the directory). */
    public void remove(String id) throws IOException {
        Path dir = dir(id);
        for (String f : List.of(STATE_FILE, STATE_FILE + ".tmp", EXEC_FIFO, ProcessControl.START_REPORT)) {
            Files.deleteIfExists(dir.resolve(f));
        }
        Files.deleteIfExists(dir);
    }
}
