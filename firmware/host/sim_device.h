// The Mega on the host: pipdu::Core on a simulated board (clock, relay pins, EEPROM, retained RAM)
// with synthetic current waveforms on the 16 ADC inputs. Used by the unit tests and the bridge.
#ifndef PIPDU_SIM_DEVICE_H
#define PIPDU_SIM_DEVICE_H

#include <stdint.h>

#include <memory>
#include <random>

#include "core.h"
#include "platform.h"

namespace pipdu {

class SimBoard : public Hal {
 public:
  SimBoard();
  uint32_t millis() override { return nowMs; }
  void writeRelays(uint16_t energised) override;
  bool eepromReady() override { return true; }
  uint8_t eepromRead(uint16_t a) override { return a < sizeof eeprom ? eeprom[a] : 0xFF; }
  void eepromWrite(uint16_t a, uint8_t v) override;

  uint32_t nowMs = 0;
  uint16_t relayPins = 0;
  uint32_t relaySwitches = 0;  // writes that changed the pins
  uint8_t eeprom[4096];
  uint32_t eepromWrites = 0;
};

/** One channel's synthetic signal: a mains-frequency sine while the relay is on, plus offset and noise. */
struct Channel {
  double amps = 0;            // RMS, flows only while the outlet's relay is energised
  double sensorUaPerStep = kDefaultGainUaPerStep;  // the real sensor (CAL_GAIN is what the firmware assumes)
  double offsetSteps = 0;     // sensor zero away from mid-scale
  double noiseSteps = 0;      // gaussian, RMS in ADC steps
  double phase = 0;
};

class SimDevice {
 public:
  explicit SimDevice(uint8_t outlets = PIPDU_OUTLETS, uint8_t address = PIPDU_DEFAULT_I2C_ADDRESS,
                     uint32_t seed = 1);

  /** A reset of the given RESET_CAUSE. Power-on and brown-out lose RAM; all keep the EEPROM. */
  void reset(uint8_t cause);
  /** Runs the firmware for ms milliseconds: 9600 ADC samples/s and loop() after each. Beyond the
   *  last 10 s of a long advance only loop() runs (every 10 ms), to keep hours cheap. */
  void advance(uint32_t ms);

  /** Master write transaction (Wire slave semantics). False = NACK (other address, > 32 bytes). */
  bool write(uint8_t address, const uint8_t* data, uint8_t length);
  /** Master read transaction of length bytes: the reply, then 0xFF as the released bus reads. */
  bool read(uint8_t address, uint8_t* out, uint8_t length);

  Core& core() { return *core_; }
  SimBoard board;
  RetainedState retained;
  Channel channel[kChannels];
  double mainsHz = 50.0;
  uint8_t address() const { return address_; }

 private:
  uint16_t sample(uint8_t ch, double t);
  uint8_t outlets_;
  uint8_t address_;
  std::unique_ptr<Core> core_;
  std::mt19937 rng_;
  std::normal_distribution<double> gauss_{0.0, 1.0};
  uint64_t nowUs_ = 0;      // since the last reset
  uint64_t sampleIndex_ = 0;
  double timeOffset_ = 0;   // continuous waveform time across resets
};

/** Builds a write frame [reg][len][data][crc]; returns its length. */
uint8_t buildWriteFrame(uint8_t address, uint8_t reg, const uint8_t* data, uint8_t len, uint8_t* out);

}  // namespace pipdu

#endif
