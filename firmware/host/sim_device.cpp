#include "sim_device.h"

#include <math.h>
#include <string.h>

#include "crc8.h"

namespace pipdu {

SimBoard::SimBoard() { memset(eeprom, 0xFF, sizeof eeprom); }

void SimBoard::writeRelays(uint16_t energised) {
  if (energised != relayPins) relaySwitches++;
  relayPins = energised;
}

void SimBoard::eepromWrite(uint16_t a, uint8_t v) {
  if (a >= sizeof eeprom) return;
  eeprom[a] = v;
  eepromWrites++;
}

SimDevice::SimDevice(uint8_t outlets, uint8_t address, uint32_t seed)
    : outlets_(outlets), address_(address), rng_(seed) {
  for (uint8_t c = 0; c < kChannels; c++) channel[c].phase = 0.37 * c;
  reset(PIPDU_RESET_POWER_ON);
}

void SimDevice::reset(uint8_t cause) {
  timeOffset_ += nowUs_ / 1e6;
  if (cause == PIPDU_RESET_POWER_ON || cause == PIPDU_RESET_BROWN_OUT) {
    memset(&retained, 0xA5, sizeof retained);  // RAM content after power loss: not valid
    board.relayPins = 0;                      // relays drop without supply
  }
  board.nowMs = 0;
  nowUs_ = 0;
  sampleIndex_ = 0;
  // .init3: the relay pins' first level
  const uint16_t fitted = outlets_ >= 16 ? 0xFFFF : (uint16_t)((1U << outlets_) - 1);
  board.writeRelays(earlyRelayMask(cause, retained, fitted));
  core_.reset(new Core(board, retained, outlets_, address_));
  core_->begin(cause);
}

uint16_t SimDevice::sample(uint8_t ch, double t) {
  const Channel& c = channel[ch];
  double v = 511.5 + c.offsetSteps;
  if ((board.relayPins >> ch) & 1) {
    v += c.amps * sqrt(2.0) * 1e6 / c.sensorUaPerStep * sin(2 * M_PI * mainsHz * t + c.phase);
  }
  if (c.noiseSteps > 0) v += c.noiseSteps * gauss_(rng_);
  long q = lround(v);
  return (uint16_t)(q < 0 ? 0 : q > 1023 ? 1023 : q);
}

void SimDevice::advance(uint32_t ms) {
  const uint64_t end = nowUs_ + (uint64_t)ms * 1000;
  const uint64_t sampled = 10000000ULL;  // the last 10 s run sample by sample
  while (end - nowUs_ > sampled) {
    nowUs_ += 10000;
    board.nowMs = (uint32_t)(nowUs_ / 1000);
    core_->poll();
  }
  if (sampleIndex_ * 625 / 6 < nowUs_) sampleIndex_ = (nowUs_ * 6 + 624) / 625;
  for (;;) {
    const uint64_t t = sampleIndex_ * 625 / 6;  // µs: 9600 samples/s
    if (t > end) break;
    board.nowMs = (uint32_t)(t / 1000);
    const uint8_t ch = (uint8_t)(sampleIndex_ & 0x0F);
    core_->sampler().add(ch, sample(ch, timeOffset_ + t / 1e6));
    core_->poll();
    sampleIndex_++;
  }
  nowUs_ = end;
  board.nowMs = (uint32_t)(end / 1000);
  core_->poll();
}

bool SimDevice::write(uint8_t address, const uint8_t* data, uint8_t length) {
  if (address != address_ || length > kWireBuffer) return false;
  core_->i2cReceive(data, length);
  core_->poll();  // loop() runs between two transactions
  return true;
}

bool SimDevice::read(uint8_t address, uint8_t* out, uint8_t length) {
  if (address != address_) return false;
  uint8_t reply[kWireBuffer];
  uint8_t n = core_->i2cRequest(reply);
  if (n == 0) {
    reply[0] = 0x00;  // Wire sends one 0x00 when the handler wrote nothing
    n = 1;
  }
  for (uint8_t i = 0; i < length; i++) out[i] = i < n ? reply[i] : 0xFF;
  core_->poll();
  return true;
}

uint8_t buildWriteFrame(uint8_t address, uint8_t reg, const uint8_t* data, uint8_t len, uint8_t* out) {
  out[0] = reg;
  out[1] = len;
  memcpy(out + 2, data, len);
  out[len + 2] = crc8(out, (uint8_t)(len + 2), crc8Update(0, (uint8_t)(address << 1)));
  return (uint8_t)(len + 3);
}

}  // namespace pipdu
