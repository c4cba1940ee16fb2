package dev.hull.linux;

/** errno values Hull checks for, and their names for messages. */
public final class Errno {
    public static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7,
            EBADF = 9, ECHILD = 10, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16,
            EEXIST = 17, EXDEV = 18, ENODEV = 19, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENFILE = 23,
            EMFILE = 24, ENOTTY = 25, ENOSPC = 28, EPIPE = 32, ERANGE = 34, ENOSYS = 38, ENOTEMPTY = 39,
            ELOOP = 40, ENODATA = 61, EOPNOTSUPP = 95, ECONNRESET = 104, ECONNREFUSED = 111,
            ENOKEY = 126, EKEYEXPIRED = 127, EKEYREVOKED = 128;

    private static final String[] NAMES = new String[134];

    static {
        String[][] table = {
            {"1", "EPERM", "Operation not permitted"}, {"2", "ENOENT", "No such file or directory"},
            {"3", "ESRCH", "No such process"}, {"4", "EINTR", "Interrupted system call"},
            {"5", "EIO", "Input/output error"}, {"6", "ENXIO", "No such device or address"},
            {"7", "E2BIG", "Argument list too long"}, {"9", "EBADF", "Bad file descriptor"},
            {"10", "ECHILD", "No child processes"}, {"11", "EAGAIN", "Resource temporarily unavailable"},
            {"12", "ENOMEM", "Cannot allocate memory"}, {"13", "EACCES", "Permission denied"},
            {"14", "EFAULT", "Bad address"}, {"16", "EBUSY", "Device or resource busy"},
            {"17", "EEXIST", "File exists"}, {"18", "EXDEV", "Invalid cross-device link"},
            {"19", "ENODEV", "No such device"}, {"20", "ENOTDIR", "Not a directory"},
            {"21", "EISDIR", "Is a directory"}, {"22", "EINVAL", "Invalid argument"},
            {"23", "ENFILE", "Too many open files in system"}, {"24", "EMFILE", "Too many open files"},
            {"25", "ENOTTY", "Inappropriate ioctl for device"}, {"28", "ENOSPC", "No space left on device"},
            {"32", "EPIPE", "Broken pipe"}, {"34", "ERANGE", "Numerical result out of range"},
            {"38", "ENOSYS", "Function not implemented"}, {"39", "ENOTEMPTY", "Directory not empty"},
            {"40", "ELOOP", "Too many levels of symbolic links"},
            {"61", "ENODATA", "No data available"}, {"95", "EOPNOTSUPP", "Operation not supported"},
        };
        for (String[] row : table) {
            NAMES[Integer.parseInt(row[0])] = row[1] + " (" + row[2] + ")";
        }
    }

    private Errno() {}

    public static String describe(int errno) {
        if (errno > 0 && errno < NAMES.length && NAMES[errno] != null) {
            return NAMES[errno];
        }
        return "errno " + errno;
    }
}
