// BackgroundStream (the reader thread of every CommandHandle and streaming
// WatchDir): stops from several threads at once, and from the reader's own
// callbacks while another thread is stopping it, never deadlock; Stop
// returns only once the reader is done, unless it is the reader calling.

#include "internal/background_stream.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

namespace {

using e2b::internal::BackgroundStream;
using namespace std::chrono_literals;

// Runs `body` on its own thread; false when it has not returned within
// `limit` (the thread is then left behind, with what it uses leaked).
template <typename Body>
bool FinishesWithin(std::chrono::milliseconds limit, Body body) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  std::thread([done, body = std::move(body)]() mutable {
    body();
    done->set_value();
  }).detach();
  return finished.wait_for(limit) == std::future_status::ready;
}

// The reader stops its own stream (a callback calling Disconnect/Stop)
// while another thread is already inside Stop, joining it.
TEST(BackgroundStreamTest, StopFromTheReaderWhileAnotherThreadStops) {
  for (int round = 0; round < 20; ++round) {
    auto* stream = new BackgroundStream();  // leaked if the round hangs
    std::atomic<bool> reader_stopped{false};
    stream->Start([stream, &reader_stopped, round] {
      while (!stream->StreamContext().Done()) std::this_thread::sleep_for(1ms);
      // The other thread cancelled and is about to join (or joining).
      std::this_thread::sleep_for(std::chrono::milliseconds(round % 5));
      stream->Stop();
      reader_stopped = true;
    });
    ASSERT_TRUE(FinishesWithin(5s, [stream] { stream->Stop(); }))
        << "Stop deadlocked with the reader's own Stop in round " << round;
    EXPECT_TRUE(reader_stopped) << "Stop returned before the reader ended";
    delete stream;
  }
}

// Several threads stop at once; each returns only after the reader ended.
TEST(BackgroundStreamTest, ConcurrentStopsAllWaitForTheReader) {
  for (int round = 0; round < 20; ++round) {
    auto* stream = new BackgroundStream();
    std::atomic<bool> reader_done{false};
    stream->Start([stream, &reader_done] {
      while (!stream->StreamContext().Done()) std::this_thread::sleep_for(1ms);
      std::this_thread::sleep_for(20ms);  // slow to wind down
      reader_done = true;
    });
    std::atomic<int> early{0};
    ASSERT_TRUE(FinishesWithin(5s,
                               [&] {
                                 std::vector<std::thread> stoppers;
                                 for (int i = 0; i < 4; ++i) {
                                   stoppers.emplace_back([&] {
                                     stream->Stop();
                                     if (!reader_done) ++early;
                                   });
                                 }
                                 for (auto& t : stoppers) t.join();
                               }))
        << "concurrent Stops deadlocked in round " << round;
    EXPECT_EQ(early, 0) << "a Stop returned while the reader still ran";
    delete stream;
  }
}

// A reader that stops itself ends by itself; a later Stop from another
// thread waits for that end all the same.
TEST(BackgroundStreamTest, StopFromTheReaderAlone) {
  BackgroundStream stream;
  std::promise<void> stopped;
  std::atomic<bool> reader_done{false};
  stream.Start([&] {
    stream.Stop();
    stopped.set_value();
    std::this_thread::sleep_for(50ms);  // winding down after its Stop
    reader_done = true;
  });
  ASSERT_EQ(stopped.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(stream.Stopped());
  stream.Stop();
  EXPECT_TRUE(reader_done);
  stream.Wait();
}

// A stream that never started stops at once.
TEST(BackgroundStreamTest, StopWithoutStart) {
  EXPECT_TRUE(FinishesWithin(5s, [] {
    BackgroundStream stream;
    stream.Stop();
    stream.Stop();
  }));
}

}  // namespace
