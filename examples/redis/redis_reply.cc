// redis::Reply's conversion from hiredis and its typed accessors.
#include "examples/redis/redis_reply.h"

#include <hiredis/hiredis.h>

#include <string>

namespace redis {

namespace {

[[noreturn]] void wrong_type(const Reply& reply, std::string_view wanted) {
  if (reply.is_error()) throw ServerError(reply.text);
  throw weft::Exception(weft::Errc::invalid_state, "redis: expected " + std::string(wanted) +
                                                       " reply, got " +
                                                       std::string(type_name(reply.type)));
}

}  // namespace

std::string_view type_name(Reply::Type type) noexcept {
  switch (type) {
    case Reply::Type::string:
      return "a string";
    case Reply::Type::array:
      return "an array";
    case Reply::Type::integer:
      return "an integer";
    case Reply::Type::nil:
      return "nil";
    case Reply::Type::status:
      return "a status";
    case Reply::Type::error:
      return "an error";
  }
  return "an unknown";
}

const Reply& Reply::value_or_throw() const {
  if (is_error()) throw ServerError(text);
  return *this;
}

const std::string& Reply::as_string() const {
  if (type != Type::string && type != Type::status) wrong_type(*this, "a string");
  return text;
}

long long Reply::as_integer() const {
  if (type != Type::integer) wrong_type(*this, "an integer");
  return integer;
}

const std::vector<Reply>& Reply::as_array() const {
  if (type != Type::array) wrong_type(*this, "an array");
  return elements;
}

Reply Reply::from_hiredis(const redisReply& reply) {
  Reply out;
  switch (reply.type) {
    case REDIS_REPLY_STRING:
      out.type = Type::string;
      out.text.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Type::status;
      out.text.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Type::error;
      out.text.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Type::integer;
      out.integer = reply.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Type::array;
      out.elements.reserve(reply.elements);
      for (std::size_t i = 0; i < reply.elements; ++i)
        out.elements.push_back(from_hiredis(*reply.element[i]));
      break;
    default:  // REDIS_REPLY_NIL
      out.type = Type::nil;
      break;
  }
  return out;
}

}  // namespace redis
