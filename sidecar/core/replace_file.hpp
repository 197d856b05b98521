#pragma once
// Replacing a small file atomically: the data goes to a temporary file beside
// it, which is synced and renamed over the file, so a reader (or a restart
// after a crash) finds the old contents or the new, never a mix.
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>

namespace logferry {

// How far replace_file() syncs before it returns.
enum class FileSync {
  none,                // the rename only: survives a crash of the process
  file,                // fsync of the new file before the rename
  file_and_directory,  // and fsync of the directory after it: survives a crash of the node
};

// Whether the new file's mode is `mode` exactly (fchmod: the umask does not
// matter) or `mode` as narrowed by the process's umask (as open(2) creates it).
enum class FileModeUmask { ignored, applies };

struct ReplaceFileOptions {
  unsigned mode = 0600;
  FileSync sync = FileSync::file_and_directory;
  FileModeUmask umask = FileModeUmask::ignored;
};

// Writes `data` to `temp_path` (whatever is there first is unlinked, never
// followed or written through: O_EXCL | O_NOFOLLOW), writing again after short
// writes and EINTR, syncs as asked, closes it, and renames it to `path`; both
// paths should be in one directory (the one synced). A failure before the
// rename removes the temporary file; a failed rename leaves it complete (a
// reader may recover it). Returns the first error (errno, system category).
boost::system::error_code replace_file(const std::string& path, const std::string& temp_path, std::string_view data,
                                       const ReplaceFileOptions& options);

}  // namespace logferry
