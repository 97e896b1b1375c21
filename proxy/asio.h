// The Asio names the proxy uses, in one place. Asio's awaitable.hpp needs
// <utility> first with g++ 12.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>

namespace ql::proxy {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;
template <typename T = void>
using awaitable = boost::asio::awaitable<T>;
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);
}  // namespace ql::proxy
