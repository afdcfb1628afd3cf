// Configuration kept in EEPROM (after COMMAND SAVE_CONFIG): mains, RMS window, cold-start
// policy and on-delays, per-channel calibration.
#ifndef PIPDU_CONFIG_H
#define PIPDU_CONFIG_H

#include <stdint.h>

#include "register_map.h"

namespace pipdu {

const uint8_t kChannels = PIPDU_CHANNELS;
/** ACS712-20A: 100 mV/A, 4.883 mV per ADC step -> 48.828 mA per step. */
const uint16_t kDefaultGainUaPerStep = 48828;

struct Config {
  uint8_t mainsHz;
  uint8_t cycles;
  uint8_t coldPolicy[kChannels];
  uint8_t onDelay[kChannels];  // 100 ms units
  uint16_t calGain[kChannels];  // µA per ADC step
  uint16_t noiseFloor[kChannels];  // mA
};

void defaultConfig(Config& c);
bool configValid(const Config& c);

/** Serialised payload size (little-endian fields, in the order of the struct). */
const uint8_t kConfigPayload = 2 + kChannels * 6;
void encodeConfig(const Config& c, uint8_t* out);
void decodeConfig(const uint8_t* in, Config& c);

}  // namespace pipdu

#endif
