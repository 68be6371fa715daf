// redis::Reply: one RESP reply (string, array, integer, nil, status, error)
// as a C++ value, converted from the redisReply that hiredis's reader builds;
// redis::ServerError: an error reply ("-ERR ...", "-WRONGTYPE ...") thrown as
// a weft::Exception that carries the server's text.
//
// Plain values: no thread affinity, owned by whoever holds them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

struct redisReply;

namespace redis {

struct Reply {
  enum class Type { string, array, integer, nil, status, error };

  Type type = Type::nil;
  std::string text;  // string, status and error replies (binary-safe)
  long long integer = 0;
  std::vector<Reply> elements;  // array replies

  bool is_error() const noexcept { return type == Type::error; }
  bool is_nil() const noexcept { return type == Type::nil; }

  // Throws ServerError if this is an error reply; returns itself otherwise.
  const Reply& value_or_throw() const;
  // The reply as the named type, or weft::Exception(Errc::invalid_state)
  // naming what came instead (a ServerError for an error reply).
  const std::string& as_string() const;
  long long as_integer() const;
  const std::vector<Reply>& as_array() const;

  // A deep copy of hiredis's reply (which the caller still frees).
  static Reply from_hiredis(const redisReply& reply);
};

std::string_view type_name(Reply::Type type) noexcept;

// An error reply from the server. code() is Errc::invalid_argument (the
// server refused the command as given); what() is the server's text, e.g.
// "ERR unknown command 'NOPE', ..." or "WRONGTYPE Operation against a key
// holding the wrong kind of value".
class ServerError : public weft::Exception {
 public:
  explicit ServerError(std::string_view server_text)
      : weft::Exception(weft::Errc::invalid_argument, server_text) {}
};

}  // namespace redis
