#include "config.h"

namespace pipdu {

void defaultConfig(Config& c) {
  c.mainsHz = 50;
  c.cycles = 10;
  for (uint8_t i = 0; i < kChannels; i++) {
    c.coldPolicy[i] = PIPDU_COLD_OFF;
    c.onDelay[i] = (uint8_t)(i * 5);  // 0.5 s stagger
    c.calGain[i] = kDefaultGainUaPerStep;
    c.noiseFloor[i] = 0;
  }
}

bool configValid(const Config& c) {
  if (c.mainsHz != 50 && c.mainsHz != 60) return false;
  if (c.cycles < 1 || c.cycles > 25) return false;
  for (uint8_t i = 0; i < kChannels; i++) {
    if (c.coldPolicy[i] > PIPDU_COLD_LAST) return false;
  }
  return true;
}

void encodeConfig(const Config& c, uint8_t* out) {
  out[0] = c.mainsHz;
  out[1] = c.cycles;
  for (uint8_t i = 0; i < kChannels; i++) {
    out[2 + i] = c.coldPolicy[i];
    out[2 + kChannels + i] = c.onDelay[i];
    out[2 + 2 * kChannels + 2 * i] = (uint8_t)c.calGain[i];
    out[3 + 2 * kChannels + 2 * i] = (uint8_t)(c.calGain[i] >> 8);
    out[2 + 4 * kChannels + 2 * i] = (uint8_t)c.noiseFloor[i];
    out[3 + 4 * kChannels + 2 * i] = (uint8_t)(c.noiseFloor[i] >> 8);
  }
}

void decodeConfig(const uint8_t* in, Config& c) {
  c.mainsHz = in[0];
  c.cycles = in[1];
  for (uint8_t i = 0; i < kChannels; i++) {
    c.coldPolicy[i] = in[2 + i];
    c.onDelay[i] = in[2 + kChannels + i];
    c.calGain[i] = (uint16_t)(in[2 + 2 * kChannels + 2 * i] | (in[3 + 2 * kChannels + 2 * i] << 8));
    c.noiseFloor[i] = (uint16_t)(in[2 + 4 * kChannels + 2 * i] | (in[3 + 4 * kChannels + 2 * i] << 8));
  }
}

}  // namespace pipdu
