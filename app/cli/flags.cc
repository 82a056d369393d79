#include "flags.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace edgewatch::cli {

FlagParser::FlagParser(std::string command, std::string positional, std::string description)
    : command_(std::move(command)),
      positional_(std::move(positional)),
      description_(std::move(description)) {}

void FlagParser::String(std::string name, std::string* out, std::string value_name,
                        std::string help) {
  flags_.push_back({std::move(name), Kind::kString, out, std::move(value_name), std::move(help)});
}

void FlagParser::Int(std::string name, int64_t* out, std::string value_name, std::string help,
                     int64_t min, int64_t max) {
  flags_.push_back(
      {std::move(name), Kind::kInt, out, std::move(value_name), std::move(help), min, max});
}

void FlagParser::Bool(std::string name, bool* out, std::string help) {
  flags_.push_back({std::move(name), Kind::kBool, out, "", std::move(help)});
}

const FlagParser::Flag* FlagParser::Find(const std::string& name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

FlagParser::Outcome FlagParser::Parse(const std::vector<std::string>& args,
                                      std::vector<std::string>* positionals, std::string* error) {
  positionals->clear();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      positionals->insert(positionals->end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (a == "-h" || a == "--help") return Outcome::kHelp;
    if (a.size() < 2 || a[0] != '-') {
      positionals->push_back(a);
      continue;
    }
    if (a.rfind("--", 0) != 0) {
      *error = "unknown option '" + a + "' (options are --long only)";
      return Outcome::kError;
    }
    std::string name = a.substr(2);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const Flag* f = Find(name);
    if (f == nullptr) {
      *error = "unknown option '--" + name + "'";
      return Outcome::kError;
    }
    if (f->kind == Kind::kBool) {
      if (value && *value != "true" && *value != "false") {
        *error = "--" + name + " takes no value (or =true/=false)";
        return Outcome::kError;
      }
      *static_cast<bool*>(f->out) = !value || *value == "true";
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        *error = "--" + name + " needs a value (" + f->value_name + ")";
        return Outcome::kError;
      }
      value = args[++i];
    }
    if (f->kind == Kind::kString) {
      *static_cast<std::string*>(f->out) = *value;
      continue;
    }
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(value->c_str(), &end, 10);
    if (value->empty() || *end != '\0' || errno == ERANGE || v < f->min || v > f->max) {
      *error = "--" + name + " needs an integer in [" + std::to_string(f->min) + ", " +
               std::to_string(f->max) + "], got '" + *value + "'";
      return Outcome::kError;
    }
    *static_cast<int64_t*>(f->out) = v;
  }
  return Outcome::kOk;
}

std::string FlagParser::Help() const {
  std::string h = "usage: edgewatch " + command_ + (flags_.empty() ? "" : " [options]") +
                  (positional_.empty() ? "" : " " + positional_) + "\n\n" + description_ + "\n";
  if (flags_.empty()) return h;
  h += "\noptions:\n";
  for (const Flag& f : flags_) {
    std::string left = "  --" + f.name + (f.value_name.empty() ? "" : " " + f.value_name);
    if (left.size() < 26) {
      left.resize(26, ' ');
    } else {
      left += "\n" + std::string(26, ' ');
    }
    h += left + f.help + "\n";
  }
  h += "  -h, --help              show this help\n";
  return h;
}

std::optional<int> FlagParser::ParseOrExit(const std::vector<std::string>& args,
                                           std::vector<std::string>* positionals) {
  std::string error;
  switch (Parse(args, positionals, &error)) {
    case Outcome::kOk:
      return std::nullopt;
    case Outcome::kHelp:
      std::fputs(Help().c_str(), stdout);
      return kExitOk;
    case Outcome::kError:
      break;
  }
  std::fprintf(stderr, "edgewatch %s: %s\n(see 'edgewatch %s --help')\n", command_.c_str(),
               error.c_str(), command_.c_str());
  return kExitUsage;
}

}  // namespace edgewatch::cli
