#include "core.h"

#include "platform.h"

namespace pipdu {

static void put16(uint8_t* r, uint8_t a, uint16_t v) {
  r[a] = (uint8_t)v;
  r[a + 1] = (uint8_t)(v >> 8);
}

static uint16_t get16(const uint8_t* r, uint8_t a) { return (uint16_t)(r[a] | (r[a + 1] << 8)); }

Core::Core(Hal& hal, RetainedState& retained, uint8_t outlets, uint8_t address)
    : hal_(hal), retained_(retained), regs_(address), relays_(outlets), eeprom_(hal), outlets_(outlets) {
  defaultConfig(cfg_);
}

void Core::begin(uint8_t resetCause) {
  const uint32_t now = hal_.millis();
  resetCause_ = resetCause;
  uptimeAnchor_ = silentAnchor_ = maskChangedMs_ = now;
  statusFlags_ = eeprom_.loadConfig(cfg_) ? 0 : PIPDU_STATUS_EEPROM_DEFAULTED;
  uint16_t last = 0;
  eeprom_.loadLastMask(last);
  savedMask_ = last;
  lastRequested_ = last;
  statusFlags_ |= relays_.startup(resetCause, retained_, last, cfg_, now) & PIPDU_STATUS_COLD_START_APPLIED;
  driveRelays();
  sampler_.start(samplesPerWindow(cfg_.mainsHz, cfg_.cycles));
  buildSnapshot(regs_.back());
  regs_.publish();
  dirty_ = false;
}

void Core::driveRelays() {
  hal_.writeRelays(relays_.energised());
  retain(retained_, relays_.energised(), relays_.pending());
  dirty_ = true;
}

void Core::poll() {
  const uint32_t now = hal_.millis();
  Frame f;
  if (regs_.takeFrame(f)) applyFrame(f);
  if (regs_.takeHostSeen()) {
    hostSilent_ = 0;
    silentAnchor_ = now;
    dirty_ = true;
  }
  if (relays_.poll(now)) driveRelays();
  if (sampler_.ready()) processChannel();
  tickSeconds(now);

  const uint16_t requested = relays_.requested();
  if (requested != lastRequested_) {
    lastRequested_ = requested;
    maskChangedMs_ = now;
  }
  if (requested != savedMask_ && !eeprom_.ringBusy() && now - maskChangedMs_ >= kLastMaskDebounceMs) {
    eeprom_.saveLastMask(requested);
    savedMask_ = requested;
  }
  eeprom_.poll();

  if (dirty_) {
    buildSnapshot(regs_.back());
    regs_.publish();
    dirty_ = false;
  }
}

void Core::tickSeconds(uint32_t now) {
  while (now - uptimeAnchor_ >= 1000) {
    uptimeAnchor_ += 1000;
    uptime_++;
    dirty_ = true;
  }
  while (now - silentAnchor_ >= 1000) {
    silentAnchor_ += 1000;
    if (hostSilent_ < 0xFFFF) hostSilent_++;
  }
}

void Core::processChannel() {
  const WindowSums& w = sampler_.window();
  const uint8_t c = nextChannel_;
  irms_[c] = rmsMilliamps(w.s1[c], w.s2[c], w.n, cfg_.calGain[c], cfg_.noiseFloor[c]);
  sampleSeq_[c]++;
  dirty_ = true;
  if (++nextChannel_ < kChannels) return;
  nextChannel_ = 0;
  sampler_.release();
  adcSeen_ = true;
  lastWindowMs_ = hal_.millis();
}

void Core::applyFrame(const Frame& f) {
  bool crcOk = false;
  uint8_t status = checkWriteFrame(f.bytes, f.length, regs_.address(), crcOk);
  if (status == PIPDU_WRITE_BAD_CRC && crcErrors_ < 0xFFFF) crcErrors_++;
  if (crcOk) {
    hostSilent_ = 0;
    silentAnchor_ = hal_.millis();
  }
  if (status == PIPDU_WRITE_OK) status = applyWrite(f.bytes);
  lastWrite_ = status;
  if (status == PIPDU_WRITE_OK) writeSeq_++;
  dirty_ = true;
}

uint8_t Core::applyWrite(const uint8_t* frame) {
  const uint8_t reg = frame[0], len = frame[1];
  uint8_t* img = regs_.back();  // scratch: the current state with the frame laid over it
  buildSnapshot(img);
  for (uint8_t i = 0; i < len; i++) img[reg + i] = frame[2 + i];
  const uint16_t end = (uint16_t)reg + len;
  const auto touched = [&](uint8_t a, uint8_t n) { return reg < a + n && end > a; };
  const uint16_t notFitted = (uint16_t)~relays_.fitted();

  const bool set = touched(PIPDU_REG_RELAY_SET, 2), on = touched(PIPDU_REG_RELAY_ON, 2),
             off = touched(PIPDU_REG_RELAY_OFF, 2);
  if (set && (get16(img, PIPDU_REG_RELAY_SET) & notFitted)) return PIPDU_WRITE_BAD_VALUE;
  if (on && (get16(img, PIPDU_REG_RELAY_ON) & notFitted)) return PIPDU_WRITE_BAD_VALUE;
  if (off && (get16(img, PIPDU_REG_RELAY_OFF) & notFitted)) return PIPDU_WRITE_BAD_VALUE;
  const uint8_t command = img[PIPDU_REG_COMMAND];
  if (command > PIPDU_CMD_CLEAR_COUNTERS || img[PIPDU_REG_COMMAND + 1] != 0) return PIPDU_WRITE_BAD_VALUE;

  Config next;
  next.mainsHz = img[PIPDU_REG_MAINS_HZ];
  next.cycles = img[PIPDU_REG_CYCLES];
  for (uint8_t i = 0; i < kChannels; i++) {
    next.coldPolicy[i] = img[PIPDU_REG_COLD_POLICY + i];
    next.onDelay[i] = img[PIPDU_REG_ON_DELAY + i];
    next.calGain[i] = get16(img, (uint8_t)(PIPDU_REG_CAL_GAIN + 2 * i));
    next.noiseFloor[i] = get16(img, (uint8_t)(PIPDU_REG_NOISE_FLOOR + 2 * i));
  }
  if (!configValid(next)) return PIPDU_WRITE_BAD_VALUE;  // MAINS_HZ, CYCLES, COLD_POLICY

  // every check passed: apply
  if (next.mainsHz != cfg_.mainsHz || next.cycles != cfg_.cycles)
    sampler_.configure(samplesPerWindow(next.mainsHz, next.cycles));
  cfg_ = next;
  if (set) relays_.set(get16(img, PIPDU_REG_RELAY_SET));
  if (on) relays_.on(get16(img, PIPDU_REG_RELAY_ON));
  if (off) relays_.off(get16(img, PIPDU_REG_RELAY_OFF));
  if (set || on || off) driveRelays();
  if (touched(PIPDU_REG_COMMAND, 1)) {
    if (command == PIPDU_CMD_SAVE_CONFIG) {
      eeprom_.saveConfig(cfg_);
      statusFlags_ &= (uint8_t)~PIPDU_STATUS_EEPROM_DEFAULTED;
    } else if (command == PIPDU_CMD_CLEAR_COUNTERS) {
      crcErrors_ = 0;
    }
  }
  return PIPDU_WRITE_OK;
}

void Core::buildSnapshot(uint8_t* r) {
  for (uint8_t i = 0; i < kRegisterBytes; i++) r[i] = 0;
  const uint32_t now = hal_.millis();
  put16(r, PIPDU_REG_MAGIC, PIPDU_DEVICE_MAGIC);
  r[PIPDU_REG_PROTOCOL] = PIPDU_PROTOCOL_VERSION;
  r[PIPDU_REG_FW_MAJOR] = PIPDU_FW_MAJOR;
  r[PIPDU_REG_FW_MINOR] = PIPDU_FW_MINOR;
  r[PIPDU_REG_FW_PATCH] = PIPDU_FW_PATCH;
  r[PIPDU_REG_OUTLET_COUNT] = outlets_;
  r[PIPDU_REG_RESET_CAUSE] = resetCause_;
  uint8_t status = statusFlags_;
  if (relays_.pending()) status |= PIPDU_STATUS_COLD_START_PENDING;
  if (adcSeen_ && now - lastWindowMs_ < kAdcStaleMs) status |= PIPDU_STATUS_ADC_RUNNING;
  r[PIPDU_REG_STATUS] = status;
  r[PIPDU_REG_LAST_WRITE] = lastWrite_;
  r[PIPDU_REG_WRITE_SEQ] = writeSeq_;
  put16(r, PIPDU_REG_HOST_SILENT, hostSilent_);
  put16(r, PIPDU_REG_UPTIME, (uint16_t)uptime_);
  put16(r, PIPDU_REG_UPTIME + 2, (uint16_t)(uptime_ >> 16));
  put16(r, PIPDU_REG_RELAY_STATE, relays_.energised());
  put16(r, PIPDU_REG_RELAY_SET, relays_.requested());
  put16(r, PIPDU_REG_CRC_ERRORS, crcErrors_);
  r[PIPDU_REG_MAINS_HZ] = cfg_.mainsHz;
  r[PIPDU_REG_CYCLES] = cfg_.cycles;
  for (uint8_t i = 0; i < kChannels; i++) {
    put16(r, (uint8_t)(PIPDU_REG_IRMS + 2 * i), irms_[i]);
    put16(r, (uint8_t)(PIPDU_REG_SAMPLE_SEQ + 2 * i), sampleSeq_[i]);
    r[PIPDU_REG_COLD_POLICY + i] = cfg_.coldPolicy[i];
    r[PIPDU_REG_ON_DELAY + i] = cfg_.onDelay[i];
    put16(r, (uint8_t)(PIPDU_REG_CAL_GAIN + 2 * i), cfg_.calGain[i]);
    put16(r, (uint8_t)(PIPDU_REG_NOISE_FLOOR + 2 * i), cfg_.noiseFloor[i]);
  }
}

}  // namespace pipdu
