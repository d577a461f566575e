#include "transcript.hpp"

#include "json_out.hpp"

#include "certretry/core/rfc3339.hpp"
#include "certretry/machine/kit.hpp"

namespace certretry::harness {

void transcript_sink::operator()(const event& e) {
  entry en;
  en.t = e.at - start_;
  json_line line;
  line.secs("t", en.t);
  switch (e.kind) {
    case event_kind::send:
      en.kind = "send";
      en.what = std::string(e.request.method) + " " + std::string(e.request.target);
      line.str("send", en.what);
      if (!e.request.body.empty()) line.raw("body", e.request.body);
      break;
    case event_kind::verdict:
      en.kind = "recv";
      en.verdict = std::string(to_string(e.verdict));
      en.why = std::string(e.why);
      if (e.status != 0) {
        en.what = std::to_string(e.status);
        line.num("recv", e.status);
      } else {
        en.what = std::string(transport_error_name(e.error));
        line.str("recv", en.what);
      }
      line.str("verdict", en.verdict).str("why", en.why);
      break;
    case event_kind::wait:
      en.kind = "wait";
      en.wait = e.delay;
      en.why = std::string(to_string(e.wait_why));
      line.secs("wait", e.delay, true).str("why", en.why);
      break;
    case event_kind::finish: return;  // the outcome line is written from the outcome itself
    default:
      en.kind = "event";
      en.what = std::string(to_string(e.kind));
      en.why = e.error ? e.error.message() : std::string(e.why);
      line.str("event", en.what).str("why", en.why);
      if (e.kind == event_kind::renewal_time) line.str("at", format_rfc3339(e.when));
      break;
  }
  en.line = line.done();
  out_->add(std::move(en));
}

void transcript_writer::add(entry e) {
  if (capped_) return;
  if (e.kind == "send" || e.kind == "wait") {
    if (steps_ == max_steps_) {
      capped_ = true;
      return;
    }
    ++steps_;
  }
  ++lines_;
  if (out_->on_entry) out_->on_entry(e);
  if (out_->keep) kept_.push_back(std::move(e));
}

entry outcome_entry(const outcome& o, duration t) {
  entry en;
  en.kind = "outcome";
  en.t = t;
  en.what = std::string(transcript_word(o.kind));
  en.sends = o.sends;
  en.why = o.reason;
  json_line line;
  line.secs("t", t).str("outcome", en.what).num("sends", o.sends);
  if (o.kind != outcome_kind::issued && o.kind != outcome_kind::completed)
    line.str("reason", o.reason);
  if (o.not_before) {
    en.not_before = format_rfc3339(*o.not_before);
    line.str("not_before", en.not_before);
  }
  if (!o.action.empty()) {
    en.action = o.action;
    line.str("action", o.action);
  }
  en.line = line.done();
  return en;
}

std::string replay_result::transcript() const {
  std::string out;
  for (const auto& e : entries) {
    out += e.line;
    out += '\n';
  }
  return out;
}

}  // namespace certretry::harness
