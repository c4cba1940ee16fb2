package dev.hull.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.ref.Cleaner;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SHA-256 for bulk data (image blobs and layers): OpenSSL's libcrypto through
 * the FFM API when the host has it — it uses the CPU's SHA instructions, where
 * the JVM's Java implementation runs at about 100 MB/s in Hull's short-lived,
 * C1-compiled processes — else the JDK's. Either way a {@link MessageDigest}.
 */
public final class Sha256 {
    private Sha256() {}

    /** A fresh SHA-256 digest. */
    public static MessageDigest newDigest() {
        if (OpenSsl.AVAILABLE && !Boolean.getBoolean("hull.sha256.jdk")) {
            return new OpenSslSha256();
        }
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether digests come from libcrypto (for tests and diagnostics). */
    public static boolean isNative() {
        return OpenSsl.AVAILABLE;
    }

    private static final class OpenSsl {
        static final boolean AVAILABLE;
        static final MethodHandle CTX_NEW, CTX_FREE, INIT, UPDATE, FINAL;
        static final MemorySegment SHA256;
        static final Cleaner CLEANER = Cleaner.create();

        static {
            boolean ok = false;
            MethodHandle ctxNew = null, ctxFree = null, init = null, update = null, fin = null;
            MemorySegment md = null;
            try {
                SymbolLookup lib = SymbolLookup.libraryLookup("libcrypto.so.3", Arena.global());
                Linker l = Linker.nativeLinker();
                ctxNew = l.downcallHandle(lib.findOrThrow("EVP_MD_CTX_new"), FunctionDescriptor.of(ADDRESS));
                ctxFree = l.downcallHandle(lib.findOrThrow("EVP_MD_CTX_free"), FunctionDescriptor.ofVoid(ADDRESS));
                init = l.downcallHandle(lib.findOrThrow("EVP_DigestInit_ex"),
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
                // critical: hashes straight from the Java array, no copy (a 64 KiB update takes microseconds)
                update = l.downcallHandle(lib.findOrThrow("EVP_DigestUpdate"),
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG), Linker.Option.critical(true));
                fin = l.downcallHandle(lib.findOrThrow("EVP_DigestFinal_ex"),
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), Linker.Option.critical(true));
                md = (MemorySegment) l.downcallHandle(lib.findOrThrow("EVP_sha256"), FunctionDescriptor.of(ADDRESS))
                        .invokeExact();
                ok = !md.equals(MemorySegment.NULL);
            } catch (Throwable t) {
                ok = false; // no libcrypto.so.3 here: the JDK's digest does the work
            }
            AVAILABLE = ok;
            CTX_NEW = ctxNew;
            CTX_FREE = ctxFree;
            INIT = init;
            UPDATE = update;
            FINAL = fin;
            SHA256 = md;
        }
    }

    private static final class OpenSslSha256 extends MessageDigest {
        private final MemorySegment ctx;
        private final byte[] one = new byte[1];

        OpenSslSha256() {
            super("SHA-256");
            try {
                ctx = (MemorySegment) OpenSsl.CTX_NEW.invokeExact();
            } catch (Throwable t) {
                throw Native.unexpected(t);
            }
            if (ctx.equals(MemorySegment.NULL)) {
                throw new OutOfMemoryError("EVP_MD_CTX_new failed");
            }
            MemorySegment c = ctx;
            OpenSsl.CLEANER.register(this, () -> {
                try {
                    OpenSsl.CTX_FREE.invokeExact(c);
                } catch (Throwable ignored) {
                    // freeing cannot fail
                }
            });
            engineReset();
        }

        @Override
        protected void engineReset() {
            try {
                check((int) OpenSsl.INIT.invokeExact(ctx, OpenSsl.SHA256, MemorySegment.NULL), "EVP_DigestInit_ex");
            } catch (Throwable t) {
                throw Native.unexpected(t);
            } finally {
                java.lang.ref.Reference.reachabilityFence(this); // the Cleaner must not free ctx mid-call
            }
        }

        @Override
        protected void engineUpdate(byte input) {
            one[0] = input;
            engineUpdate(one, 0, 1);
        }

        @Override
        protected void engineUpdate(byte[] input, int offset, int len) {
            java.util.Objects.checkFromIndexSize(offset, len, input.length);
            try {
                check((int) OpenSsl.UPDATE.invokeExact(ctx, MemorySegment.ofArray(input).asSlice(offset, len),
                        (long) len), "EVP_DigestUpdate");
            } catch (Throwable t) {
                throw Native.unexpected(t);
            } finally {
                java.lang.ref.Reference.reachabilityFence(this);
            }
        }

        @Override
        protected byte[] engineDigest() {
            byte[] out = new byte[32];
            try {
                check((int) OpenSsl.FINAL.invokeExact(ctx, MemorySegment.ofArray(out), MemorySegment.NULL),
                        "EVP_DigestFinal_ex");
                engineReset();
            } catch (Throwable t) {
                throw Native.unexpected(t);
            } finally {
                java.lang.ref.Reference.reachabilityFence(this);
            }
            return out;
        }

        @Override
        protected int engineGetDigestLength() {
            return 32;
        }

        private static void check(int r, String what) {
            if (r != 1) {
                throw new IllegalStateException(what + " failed");
            }
        }
    }
}
