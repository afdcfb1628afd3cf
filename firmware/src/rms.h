// Current measurement. One ADC, 16 channels: a timer triggers a conversion every 1/9600 s and
// the ADC interrupt hands each result to Sampler::add() in channel order 0..15, so every channel
// is sampled at 600 S/s: 12 samples per mains cycle at 50 Hz, 10 at 60 Hz. A window is an integer
// number of mains cycles (CYCLES, 1..25) for all channels at once, so each channel refreshes every
// CYCLES/mains_hz seconds (at most 0.5 s).
//
// Per channel the interrupt keeps integer sums of x and x^2 (x = adc - 512). At the end of a
// window loop() turns them into mA: variance with the window mean removed, square root, times
// the calibration gain (µA per ADC step), then the no-load noise floor removed in quadrature.
// Only 32-bit integer arithmetic: no 64-bit, no float, a few tens of µs per channel on the AVR.
#ifndef PIPDU_RMS_H
#define PIPDU_RMS_H

#include <stdint.h>

#include "config.h"

namespace pipdu {

const uint16_t kSampleRateHz = 9600;  // all channels together
const uint16_t kChannelRateHz = kSampleRateHz / kChannels;  // 600

inline uint16_t samplesPerWindow(uint8_t mainsHz, uint8_t cycles) {
  return (uint16_t)((kChannelRateHz / mainsHz) * cycles);
}

struct WindowSums {
  int32_t s1[kChannels];
  uint32_t s2[kChannels];
  uint16_t n;
};

class Sampler {
 public:
  Sampler();
  /** Before sampling starts (or with the ADC interrupt off): restart with this window. */
  void start(uint16_t samplesPerChannel);
  /** From loop(): samples per channel of the following windows (takes effect at the next window). */
  void configure(uint16_t samplesPerChannel) { nextWindow_ = samplesPerChannel; }
  /** From the ADC interrupt, channels in order 0..15. */
  void add(uint8_t channel, uint16_t adc);
  /** From loop(): a finished window waiting to be processed. */
  bool ready() const { return ready_ != 0; }
  const WindowSums& window() const { return buf_[1 - work_]; }
  void release();
  uint16_t overruns() const { return overruns_; }

 private:
  WindowSums buf_[2];
  volatile uint8_t work_;
  volatile uint8_t ready_;
  volatile uint16_t nextWindow_;
  uint16_t window_;
  uint16_t count_;
  uint16_t overruns_;
};

uint32_t isqrt32(uint32_t v);
/** RMS of one channel's window in mA, mean removed, noise floor (mA) removed in quadrature. */
uint16_t rmsMilliamps(int32_t s1, uint32_t s2, uint16_t n, uint16_t gainUaPerStep, uint16_t noiseFloorMa);

}  // namespace pipdu

#endif
