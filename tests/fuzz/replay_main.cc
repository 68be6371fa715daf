// Replays fuzzer inputs (files, or every file in the directories given) as
// an ordinary test: each input runs through LLVMFuzzerTestOneInput once.
// libFuzzer's main does the same (`fuzzer FILE...`); this one needs no
// libFuzzer, so the corpus also runs in plain and sanitizer builds.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// A target that keeps state across inputs may define this to end it (and
// check it) after the last input.
extern "C" void fuzz_replay_finished() __attribute__((weak));

namespace {

// The input's file is closed before the input runs, as libFuzzer does: a
// target may compare the process's descriptors before and after an input,
// and between two inputs a descriptor stays as it was (capi_fuzz_session.cc).
int run_file(const std::string& path) {
  std::vector<uint8_t> bytes;
  {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    bytes.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int inputs = 0, failures = 0;
  for (int i = 1; i < argc; ++i) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      std::fprintf(stderr, "no such input: %s\n", argv[i]);
      return 1;
    }
    if (S_ISDIR(st.st_mode)) {
      DIR* dir = opendir(argv[i]);
      while (dirent* entry = readdir(dir)) {
        if (entry->d_name[0] == '.') continue;
        failures += run_file(std::string(argv[i]) + "/" + entry->d_name);
        ++inputs;
      }
      closedir(dir);
    } else {
      failures += run_file(argv[i]);
      ++inputs;
    }
  }
  if (fuzz_replay_finished != nullptr) fuzz_replay_finished();
  std::printf("replayed %d inputs\n", inputs);
  return failures == 0 && inputs > 0 ? 0 : 1;
}
