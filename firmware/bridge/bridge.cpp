// pipdu-bridge: the firmware core on a simulated board, driven over stdin/stdout one line at a time,
// so the pdu-agent's driver can run against the real register file, CRC and relay logic without a
// board. Every input line gets exactly one output line. Protocol: firmware/README.md.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <deque>
#include <string>

#include "sim_device.h"

using namespace pipdu;

namespace {

enum Fault { CORRUPT, NACK, ZERO, SHORT };

struct Bridge {
  SimDevice* dev;
  std::deque<Fault> faults;
  std::string out;

  bool nextFault(Fault& f) {
    if (faults.empty()) return false;
    f = faults.front();
    faults.pop_front();
    return true;
  }
};

bool parseNumber(const char* s, double& v) {
  if (!s) return false;
  char* end;
  v = strtod(s, &end);
  return end != s && *end == 0;
}

bool parseInt(const char* s, long& v) {
  if (!s) return false;
  char* end;
  v = strtol(s, &end, 0);
  return end != s && *end == 0;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/** Hex bytes, optionally separated by spaces. Returns -1 on bad input or more than max bytes. */
int parseHex(const char* s, uint8_t* out, int max) {
  int n = 0, hi = -1;
  for (; s && *s; s++) {
    if (*s == ' ' || *s == '\t') continue;
    const int v = hexValue(*s);
    if (v < 0) return -1;
    if (hi < 0) {
      hi = v;
    } else {
      if (n >= max) return -1;
      out[n++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  return hi < 0 ? n : -1;
}

void hexLine(std::string& out, const uint8_t* b, int n) {
  static const char digits[] = "0123456789abcdef";
  out = "D ";
  for (int i = 0; i < n; i++) {
    out += digits[b[i] >> 4];
    out += digits[b[i] & 15];
  }
}

const char* channelArg(char* arg, uint8_t& first, uint8_t& last) {
  long n;
  if (arg && strcmp(arg, "*") == 0) {
    first = 0;
    last = kChannels - 1;
    return nullptr;
  }
  if (!parseInt(arg, n) || n < 1 || n > kChannels) return "outlet must be 1..16 or *";
  first = last = (uint8_t)(n - 1);
  return nullptr;
}

void command(Bridge& b, char* line) {
  std::string& out = b.out;
  char* save = nullptr;
  char* cmd = strtok_r(line, " \t", &save);
  char* a1 = strtok_r(nullptr, " \t", &save);
  const std::string rest = save ? save : "";  // W: the hex bytes, spaces allowed
  char* a2 = strtok_r(nullptr, " \t", &save);
  long n;
  double v;
  if (!cmd) {
    out = "ERR empty line";
  } else if (strcmp(cmd, "W") == 0) {
    uint8_t bytes[256];
    const int len = parseHex(rest.c_str(), bytes, sizeof bytes);
    if (!parseInt(a1, n) || n < 0 || n > 127 || len < 0) {
      out = "ERR usage: W <addr> <hex bytes>";
      return;
    }
    Fault f;
    const bool faulty = b.nextFault(f);
    if (faulty && f == NACK) {
      out = "NACK";
      return;
    }
    uint8_t sent = (uint8_t)(len > 255 ? 255 : len);
    if (faulty && f == CORRUPT && sent) bytes[sent - 1] ^= 0x10;
    if (faulty && f == ZERO) memset(bytes, 0, sent);
    if (faulty && f == SHORT && sent) sent--;
    out = b.dev->write((uint8_t)n, bytes, sent) ? "OK" : "NACK";
  } else if (strcmp(cmd, "R") == 0) {
    long len;
    if (!parseInt(a1, n) || n < 0 || n > 127 || !parseInt(a2, len) || len < 0 || len > 255) {
      out = "ERR usage: R <addr> <len>";
      return;
    }
    Fault f;
    const bool faulty = b.nextFault(f);
    uint8_t reply[256];
    if ((faulty && f == NACK) || !b.dev->read((uint8_t)n, reply, (uint8_t)len)) {
      out = "NACK";
      return;
    }
    int got = (int)len;
    if (faulty && f == ZERO) memset(reply, 0, (size_t)len);
    if (faulty && f == SHORT && got) got--;
    if (faulty && f == CORRUPT && got) reply[0] ^= 0x01;
    hexLine(out, reply, got);
  } else if (strcmp(cmd, "T") == 0) {
    if (!parseInt(a1, n) || n < 0) {
      out = "ERR usage: T <ms>";
      return;
    }
    b.dev->advance((uint32_t)n);
    out = "OK";
  } else if (strcmp(cmd, "L") == 0 || strcmp(cmd, "NOISE") == 0 || strcmp(cmd, "OFFSET") == 0 ||
             strcmp(cmd, "GAIN") == 0) {
    uint8_t first, last;
    const char* err = channelArg(a1, first, last);
    if (err || !parseNumber(a2, v) || v < 0 - (strcmp(cmd, "OFFSET") == 0 ? 512 : 0)) {
      out = std::string("ERR usage: ") + cmd + " <outlet 1..16|*> <value>";
      return;
    }
    for (uint8_t c = first; c <= last; c++) {
      Channel& ch = b.dev->channel[c];
      if (strcmp(cmd, "L") == 0) ch.amps = v;
      if (strcmp(cmd, "NOISE") == 0) ch.noiseSteps = v;
      if (strcmp(cmd, "OFFSET") == 0) ch.offsetSteps = v;
      if (strcmp(cmd, "GAIN") == 0) ch.sensorUaPerStep = v > 0 ? v : kDefaultGainUaPerStep;
    }
    out = "OK";
  } else if (strcmp(cmd, "HZ") == 0) {
    if (!parseNumber(a1, v) || v < 40 || v > 70) {
      out = "ERR usage: HZ <grid frequency 40..70>";
      return;
    }
    b.dev->mainsHz = v;
    out = "OK";
  } else if (strcmp(cmd, "RESET") == 0) {
    static const char* names[] = {"POWER", "BROWNOUT", "EXTERNAL", "WATCHDOG", "UNKNOWN"};
    for (uint8_t cause = 0; cause < 5; cause++) {
      if (a1 && strcmp(a1, names[cause]) == 0) {
        b.dev->reset(cause);
        out = "OK";
        return;
      }
    }
    out = "ERR usage: RESET POWER|BROWNOUT|EXTERNAL|WATCHDOG|UNKNOWN";
  } else if (strcmp(cmd, "FAULT") == 0) {
    static const char* names[] = {"CORRUPT", "NACK", "ZERO", "SHORT"};
    if (a1 && strcmp(a1, "CLEAR") == 0) {
      b.faults.clear();
      out = "OK";
      return;
    }
    for (int f = 0; f < 4; f++) {
      if (a1 && strcmp(a1, names[f]) == 0) {
        b.faults.push_back((Fault)f);
        out = "OK";
        return;
      }
    }
    out = "ERR usage: FAULT CORRUPT|NACK|ZERO|SHORT|CLEAR";
  } else if (strcmp(cmd, "PINS") == 0) {
    out = "V " + std::to_string(b.dev->board.relayPins);
  } else if (strcmp(cmd, "STATS") == 0) {
    out = "V " + std::to_string(b.dev->board.relaySwitches) + " " + std::to_string(b.dev->board.eepromWrites) + " " +
          std::to_string(b.dev->board.nowMs);
  } else if (strcmp(cmd, "QUIT") == 0) {
    out = "OK";
  } else {
    out = std::string("ERR unknown command ") + cmd;
  }
}

void usage() {
  fputs("usage: pipdu-bridge [--address 0x42] [--outlets 16] [--seed 1]\n"
        "line protocol on stdin/stdout, see firmware/README.md\n",
        stderr);
}

}  // namespace

int main(int argc, char** argv) {
  long address = PIPDU_DEFAULT_I2C_ADDRESS, outlets = PIPDU_OUTLETS, seed = 1;
  for (int i = 1; i < argc; i++) {
    long* target = strcmp(argv[i], "--address") == 0   ? &address
                   : strcmp(argv[i], "--outlets") == 0 ? &outlets
                   : strcmp(argv[i], "--seed") == 0    ? &seed
                                                       : nullptr;
    if (!target || i + 1 >= argc || !parseInt(argv[++i], *target)) {
      usage();
      return 2;
    }
  }
  if (address < 0x08 || address > 0x77 || outlets < 1 || outlets > 16) {
    usage();
    return 2;
  }
  SimDevice dev((uint8_t)outlets, (uint8_t)address, (uint32_t)seed);
  Bridge b;
  b.dev = &dev;
  char* line = nullptr;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, stdin)) >= 0) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
    const bool quit = strcmp(line, "QUIT") == 0;
    command(b, line);
    b.out += '\n';
    fwrite(b.out.data(), 1, b.out.size(), stdout);
    fflush(stdout);
    if (quit) break;
  }
  free(line);
  return 0;
}
