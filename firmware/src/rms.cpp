#include "rms.h"

#include "platform.h"

namespace pipdu {

static void clearSums(WindowSums& w) {
  for (uint8_t c = 0; c < kChannels; c++) {
    w.s1[c] = 0;
    w.s2[c] = 0;
  }
  w.n = 0;
}

Sampler::Sampler() : work_(0), ready_(0), nextWindow_(samplesPerWindow(50, 10)), window_(0), count_(0), overruns_(0) {
  clearSums(buf_[0]);
  clearSums(buf_[1]);
  window_ = nextWindow_;
}

void Sampler::start(uint16_t samplesPerChannel) {
  clearSums(buf_[0]);
  clearSums(buf_[1]);
  ready_ = 0;
  count_ = 0;
  window_ = nextWindow_ = samplesPerChannel;
}

void Sampler::add(uint8_t channel, uint16_t adc) {
  WindowSums& w = buf_[work_];
  const int16_t x = (int16_t)adc - 512;
  w.s1[channel] += x;
  w.s2[channel] += (uint32_t)((int32_t)x * x);
  if (channel != kChannels - 1) return;
  if (++count_ < window_) return;
  w.n = count_;
  if (ready_) {
    overruns_++;  // loop() is still busy with the previous window: drop this one
  } else {
    work_ ^= 1;
    PIPDU_BARRIER();
    ready_ = 1;
  }
  clearSums(buf_[work_]);
  count_ = 0;
  window_ = nextWindow_;
}

void Sampler::release() {
  PIPDU_BARRIER();
  ready_ = 0;
}

uint32_t isqrt32(uint32_t v) {
  uint32_t result = 0;
  uint32_t bit = 1UL << 30;
  while (bit > v) bit >>= 2;
  while (bit != 0) {
    if (v >= result + bit) {
      v -= result + bit;
      result = (result >> 1) + bit;
    } else {
      result >>= 1;
    }
    bit >>= 2;
  }
  return result;
}

static uint8_t bitLength(uint32_t v) {
  uint8_t n = 0;
  while (v) {
    n++;
    v >>= 1;
  }
  return n;
}

uint16_t rmsMilliamps(int32_t s1, uint32_t s2, uint16_t n, uint16_t gainUaPerStep, uint16_t noiseFloorMa) {
  if (n == 0) return 0;
  // sum of squared deviations = s2 - s1^2/n, with s1^2/n = q*|s1| + q*r + r^2/n (|s1| = q*n + r)
  // so that nothing exceeds 32 bits (|s1| <= 512*300, s2 <= 512^2*300).
  const uint32_t a = (uint32_t)(s1 < 0 ? -s1 : s1);
  const uint32_t q = a / n, r = a % n;
  const uint32_t meanPart = q * a + q * r + (r * r) / n;
  const uint32_t dev = s2 > meanPart ? s2 - meanPart : 0;
  // mean square in steps^2, scaled by 4^h as far as 32 bits allow, so the root keeps precision
  uint8_t h = (uint8_t)((32 - bitLength(dev)) / 2);
  if (h > 15) h = 15;
  const uint32_t root = isqrt32((dev << (2 * h)) / n);  // RMS in steps * 2^h, < 2^16
  uint32_t ua = root * gainUaPerStep;  // < 2^32
  ua = h ? ((ua >> (h - 1)) + 1) >> 1 : ua;
  uint32_t ma = (ua + 500) / 1000;
  if (noiseFloorMa) {
    const uint32_t floor2 = (uint32_t)noiseFloorMa * noiseFloorMa;
    const uint32_t m2 = ma > 0xFFFF ? 0xFFFFFFFFUL : ma * ma;
    ma = m2 > floor2 ? isqrt32(m2 - floor2) : 0;
  }
  return ma > 0xFFFF ? 0xFFFF : (uint16_t)ma;
}

}  // namespace pipdu
