package dev.hull.image;

import java.io.IOException;

/** No image in the store answers to the name or id the user gave. */
public final class ImageNotFoundException extends IOException {
    public ImageNotFoundException(String text) {
        super("image \"" + text + "\" not found (hull images lists what is here; hull pull fetches from a registry)");
    }
}
